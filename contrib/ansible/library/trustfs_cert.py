#!/usr/bin/python3
# -*- coding: utf-8 -*-
# trustfs_cert: one certificate entry of a trustfs mount, for Ansible.
# Python 3 standard library only (plus Ansible's own module_utils).

DOCUMENTATION = r'''
---
module: trustfs_cert
short_description: Manage one certificate entry of a trustfs mount
description:
  - Makes an entry under a trustfs mount (a root, a pin, a distrusted
    certificate or a chain) hold a given certificate, or removes it.
  - Compares by the entry's C(user.trustfs.sha256) extended attribute with
    the SHA-256 of the given certificate (DER), so a second run reports
    no change. The inspect text that C(cat) shows is never compared.
  - Writes a temporary name beginning with C(.) in the entry's directory
    (the mount holds such names in memory) and renames it over the entry:
    the mount replaces the entry in one transaction, audited as a
    replacement with the old and new SHA-256.
  - Supports check mode and diff mode (SHA-256 and subject, before and
    after).
options:
  path:
    description:
      - The entry under the mount, for example C(/trust/roots/Corp.pem),
        C(/trust/pinned/10.1.2.3_8082), C(/trust/distrusted/X.pem) or
        C(/trust/chains/Lab.pem).
    type: path
    required: true
  src:
    description:
      - A certificate file on the managed host, PEM or DER. For chains/,
        a PEM file of several certificates.
      - Mutually exclusive with I(content).
    type: path
  content:
    description:
      - The certificate as PEM text. Mutually exclusive with I(src).
    type: str
  state:
    description:
      - C(present) makes the entry hold the certificate, C(absent)
        removes the entry.
    type: str
    choices: [present, absent]
    default: present
notes:
  - roots/ and distrusted/ hold a certificate under one name only. Putting
    a certificate that is already stored under another name there fails
    with C(File exists); the message names the entry that holds it (rename
    that one, or remove it first).
  - Invalid input (not a certificate, a private key, a bundle where one
    certificate belongs) fails with the mount's own error, for example
    C(Invalid argument); the mount's audit.log has the reason.
'''

EXAMPLES = r'''
- name: trust the corporate root
  trustfs_cert:
    path: /trust/roots/Corp.pem
    src: /etc/pki/corp-root.pem

- name: pre-pin a host with the certificate of the other HA member
  trustfs_cert:
    path: /trust/pinned/10.1.2.3_8082
    content: "{{ lookup('file', 'pins/10.1.2.3_8082.pem') }}"

- name: forget a pin
  trustfs_cert:
    path: /trust/pinned/old.example_443
    state: absent
'''

RETURN = r'''
path:
  description: The entry.
  returned: always
  type: str
sha256:
  description: SHA-256 of the entry's certificate after the task
    (colon-separated uppercase hex), or null when it is absent.
  returned: always
  type: str
subject:
  description: Subject of the entry's certificate after the task, or null.
  returned: always
  type: str
'''

import base64
import binascii
import errno
import hashlib
import os
import re
import ssl

from ansible.module_utils.basic import AnsibleModule

XATTR_SHA256 = 'user.trustfs.sha256'
XATTR_SUBJECT = 'user.trustfs.subject'
PEM_RE = re.compile(
    r'-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----'
    r'.*?-----END (?:X509 |TRUSTED )?CERTIFICATE-----', re.S)


def fingerprint(der):
    """SHA-256 of DER as the mount shows it: 'AB:CD:...'."""
    h = hashlib.sha256(der).hexdigest().upper()
    return ':'.join(h[i:i + 2] for i in range(0, len(h), 2))


def certs_from(data):
    """The DER certificates in PEM text or one DER certificate."""
    text = data.decode('utf-8', 'replace')
    blocks = PEM_RE.findall(text)
    ders = []
    for b in blocks:
        # ssl.PEM_cert_to_DER_cert wants the plain CERTIFICATE armour.
        b = re.sub(r'-----(BEGIN|END) (?:X509 |TRUSTED )?CERTIFICATE-----',
                   r'-----\1 CERTIFICATE-----', b)
        try:
            ders.append(ssl.PEM_cert_to_DER_cert(b))
        except (ValueError, binascii.Error) as e:
            raise ValueError('a PEM block does not decode: %s' % e)
    if not ders and data[:1] == b'\x30':
        ders.append(bytes(data))
    if not ders:
        raise ValueError('no certificate found (want PEM '
                         '"-----BEGIN CERTIFICATE-----" or DER)')
    return ders


def pem_of(ders):
    out = []
    for der in ders:
        b64 = base64.b64encode(der).decode('ascii')
        out.append('-----BEGIN CERTIFICATE-----\n' +
                   '\n'.join(b64[i:i + 64] for i in range(0, len(b64), 64)) +
                   '\n-----END CERTIFICATE-----\n')
    return ''.join(out)


# --- a small DER reader: the subject, for the diff of a check-mode run ---

def der_item(buf, pos):
    """(tag, content start, content end) of the DER item at pos."""
    tag = buf[pos]
    n = buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7f
        if k == 0 or k > 4:
            raise ValueError('bad DER length')
        n = int.from_bytes(buf[pos:pos + k], 'big')
        pos += k
    if pos + n > len(buf):
        raise ValueError('truncated DER')
    return tag, pos, pos + n


def der_children(buf, start, end):
    while start < end:
        tag, s, e = der_item(buf, start)
        yield tag, s, e
        start = e


def oid_str(b):
    parts = [b[0] // 40, b[0] % 40] if b[0] < 80 else [2, b[0] - 80]
    v = 0
    for c in b[1:]:
        v = (v << 7) | (c & 0x7f)
        if not c & 0x80:
            parts.append(v)
            v = 0
    return '.'.join(str(p) for p in parts)


# OpenSSL's short names, as RFC 2253 output prints them.
OID_NAMES = {
    '2.5.4.3': 'CN', '2.5.4.4': 'SN', '2.5.4.5': 'serialNumber',
    '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.9': 'street',
    '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.12': 'title',
    '2.5.4.42': 'GN', '2.5.4.43': 'initials', '2.5.4.46': 'dnQualifier',
    '2.5.4.65': 'pseudonym', '1.2.840.113549.1.9.1': 'emailAddress',
    '0.9.2342.19200300.100.1.1': 'UID', '0.9.2342.19200300.100.1.25': 'DC',
    '2.5.4.97': 'organizationIdentifier', '2.5.4.15': 'businessCategory',
    '2.5.4.17': 'postalCode',
    '1.3.6.1.4.1.311.60.2.1.1': 'jurisdictionL',
    '1.3.6.1.4.1.311.60.2.1.2': 'jurisdictionST',
    '1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC',
}


def der_string(tag, raw):
    if tag == 0x1e:
        return raw.decode('utf-16-be', 'replace')
    if tag == 0x1c:
        return raw.decode('utf-32-be', 'replace')
    if tag == 0x14:
        return raw.decode('latin-1')
    if tag in (0x0c, 0x13, 0x16, 0x12, 0x1a):
        return raw.decode('utf-8', 'replace')
    return '#' + raw.hex().upper()


def rfc2253_escape(s):
    if s.startswith('#') and len(s) > 1 and re.fullmatch(r'#[0-9A-F]+', s):
        return s
    out = ''
    for i, ch in enumerate(s):
        if ch in ',+"\\<>;' or (ch in '# ' and i == 0) or \
                (ch == ' ' and i == len(s) - 1):
            out += '\\' + ch
        elif ord(ch) < 0x20 or ord(ch) == 0x7f:
            out += '\\%02X' % ord(ch)
        else:
            out += ch
    return out


def der_names(der):
    """The raw DER of (issuer, subject)."""
    _, s, e = der_item(der, 0)
    _, s, e = der_item(der, s)
    items = list(der_children(der, s, e))
    if items and items[0][0] == 0xa0:
        items = items[1:]
    return der[items[2][1]:items[2][2]], der[items[4][1]:items[4][2]]


def leaf_first(ders):
    """A chain as the mount stores it: the certificate that issued none
    of the others first (the mount orders chains itself)."""
    if len(ders) < 2:
        return ders
    try:
        names = [der_names(d) for d in ders]
    except (ValueError, IndexError):
        return ders
    leaves = [i for i, (_, subj) in enumerate(names)
              if not any(j != i and iss == subj
                         for j, (iss, _) in enumerate(names))]
    if len(leaves) != 1:
        return ders
    i = leaves[0]
    return [ders[i]] + ders[:i] + ders[i + 1:]


def der_subject(der):
    """The subject as trustfs shows it (RFC 2253), or None."""
    try:
        _, s, e = der_item(der, 0)                 # Certificate
        _, s, e = der_item(der, s)                 # TBSCertificate
        items = list(der_children(der, s, e))
        if items and items[0][0] == 0xa0:          # [0] version
            items = items[1:]
        _, ns, ne = items[4]                       # serial, sig, issuer,
        rdns = []                                  # validity, subject
        for _, rs, re_ in der_children(der, ns, ne):
            avas = []
            for _, as_, ae in der_children(der, rs, re_):
                (_, os_, oe), (vt, vs, ve) = list(der_children(der, as_, ae))[:2]
                oid = oid_str(der[os_:oe])
                avas.append('%s=%s' % (OID_NAMES.get(oid, oid),
                                       rfc2253_escape(der_string(vt, der[vs:ve]))))
            rdns.append('+'.join(avas))
        return ','.join(reversed(rdns))
    except (ValueError, IndexError):
        return None


# --- the mount ---

def xattr(path, name):
    """The attribute as text; None if the entry does not exist."""
    try:
        v = os.getxattr(path, name)
    except FileNotFoundError:
        return None
    return v.rstrip(b'\0').decode('utf-8', 'replace').strip()


def current_sha256(module, path):
    try:
        return xattr(path, XATTR_SHA256)
    except OSError as e:
        if e.errno in (errno.ENODATA, errno.ENOTSUP, errno.EOPNOTSUPP):
            module.fail_json(msg='%s has no %s attribute: is it an entry '
                             'of a trustfs mount? (%s)'
                             % (path, XATTR_SHA256, e.strerror), path=path)
        module.fail_json(msg='cannot read %s: %s' % (path, e.strerror),
                         path=path)


def current_subject(path):
    try:
        return xattr(path, XATTR_SUBJECT)
    except OSError:
        return None


def current_chain(path):
    """SHA-256 of every certificate the entry shows (chains/)."""
    try:
        with open(path, 'rb') as f:
            return sorted(fingerprint(d) for d in certs_from(f.read()))
    except (OSError, ValueError):
        return None


def holder_of(directory, sha, skip):
    """The entry of directory that holds sha, other than skip."""
    try:
        names = os.listdir(directory)
    except OSError:
        return None
    for n in names:
        p = os.path.join(directory, n)
        if n.startswith('.') or p == skip:
            continue
        try:
            if xattr(p, XATTR_SHA256) == sha:
                return p
        except OSError:
            continue
    return None


def write_entry(module, path, ders, want_sha):
    directory = os.path.dirname(path) or '.'
    tmp = os.path.join(directory, '.%s.trustfs_cert.%s' % (
        os.path.basename(path), binascii.hexlify(os.urandom(6)).decode()))
    step = 'creating %s' % tmp
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            step = 'writing %s' % tmp
            data = pem_of(ders).encode('ascii')
            while data:
                data = data[os.write(fd, data):]
        except OSError:
            os.close(fd)
            raise
        # The mount checks the certificate at close(): its refusal is here.
        step = 'closing %s' % tmp
        os.close(fd)
        step = 'renaming %s over %s' % (tmp, path)
        os.rename(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        msg = 'cannot put the certificate in %s: %s: %s' % (
            path, step, e.strerror)
        if e.errno == errno.EEXIST:
            other = holder_of(directory, want_sha, path)
            msg += ('; the certificate is already held by %s (roots/ and '
                    'distrusted/ hold a certificate under one name: rename '
                    'that entry with mv, or remove it first)'
                    % (other or 'another entry of %s' % directory))
        elif e.errno == errno.EINVAL:
            msg += ('; the mount refused the content (audit.log in the '
                    'mount says why)')
        elif e.errno == errno.EACCES:
            msg += '; only root (or the mount\'s --group) may change entries'
        module.fail_json(msg=msg, path=path, errno=e.errno)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            src=dict(type='path'),
            content=dict(type='str', no_log=False),
            state=dict(type='str', default='present',
                       choices=['present', 'absent']),
        ),
        mutually_exclusive=[('src', 'content')],
        required_if=[('state', 'present', ('src', 'content'), True)],
        supports_check_mode=True,
    )
    path = module.params['path']
    state = module.params['state']
    directory = os.path.dirname(path) or '.'
    if not os.path.isdir(directory):
        module.fail_json(msg='%s: no such directory (is the trustfs mount '
                         'there?)' % directory, path=path)

    before_sha = current_sha256(module, path)
    before_subject = current_subject(path) if before_sha else None
    result = dict(changed=False, path=path, sha256=before_sha,
                  subject=before_subject)

    if state == 'absent':
        if before_sha is None:
            module.exit_json(**result)
        result.update(changed=True, sha256=None, subject=None)
        if module._diff:
            result['diff'] = dict(
                before_header=path, after_header=path,
                before='sha256: %s\nsubject: %s\n' % (before_sha,
                                                      before_subject),
                after='')
        if not module.check_mode:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError as e:
                module.fail_json(msg='cannot remove %s: %s'
                                 % (path, e.strerror), path=path,
                                 errno=e.errno)
        module.exit_json(**result)

    if module.params['src'] is not None:
        try:
            with open(module.params['src'], 'rb') as f:
                data = f.read()
        except OSError as e:
            module.fail_json(msg='cannot read %s: %s'
                             % (module.params['src'], e.strerror))
    else:
        data = module.params['content'].encode('utf-8')
    try:
        ders = certs_from(data)
    except ValueError as e:
        module.fail_json(msg='%s: %s' % (module.params['src'] or 'content',
                                         e), path=path)
    ders = leaf_first(ders)
    want_sha = fingerprint(ders[0])
    want_all = sorted(fingerprint(d) for d in ders)
    want_subject = der_subject(ders[0])

    same = before_sha is not None and before_sha.upper() == want_sha
    if same and len(ders) > 1:
        # A chain: its first certificate is not all of it.  The mount
        # orders a chain itself, so compare the sets.
        same = current_chain(path) == want_all
    if same:
        module.exit_json(**result)

    result.update(changed=True, sha256=want_sha, subject=want_subject)
    if not module.check_mode:
        write_entry(module, path, ders, want_sha)
        after = current_sha256(module, path)
        if after is None or (after.upper() != want_sha if len(ders) == 1
                             else current_chain(path) != want_all):
            module.fail_json(msg='%s holds %s after the write, not %s'
                             % (path, after, want_sha), path=path)
        result['sha256'] = after
        result['subject'] = current_subject(path) or want_subject
    if module._diff:
        result['diff'] = dict(
            before_header=path, after_header=path,
            before=('sha256: %s\nsubject: %s\n' % (before_sha, before_subject)
                    if before_sha else ''),
            after='sha256: %s\nsubject: %s\n' % (want_sha, result['subject']))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
