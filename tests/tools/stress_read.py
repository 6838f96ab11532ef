#!/usr/bin/env python3
"""Readers for the stress and fault tests (tests/mount/t_stress.sh, t_faults.sh).

stress_read.py count FILE
    Prints how many certificates FILE holds once it is known to be whole:
    every BEGIN has its END and every block parses (OpenSSL, through Python's
    ssl module).  Exits 1 with the reason if the file is torn.

stress_read.py loop MOUNT STOPFILE REPORT
    Until STOPFILE exists: reads MOUNT/bundle.pem and checks that it is whole,
    lists every directory, reads a few certs/ and roots/ files (in turn) and
    checks that each holds one whole certificate.  A file that vanishes between the listing and the
    read (ENOENT) is the writers' doing, not a fault; any other error is.
    Writes "bundles=N files=N lists=N bad=N" and the first faults to REPORT,
    and the first torn bundle.pem to REPORT.torn.
"""
import base64
import errno
import os
import re
import ssl
import subprocess
import sys

BEGIN = "-----BEGIN CERTIFICATE-----"
END = "-----END CERTIFICATE-----"
BLOCK = re.compile(BEGIN + r"\n([A-Za-z0-9+/=\n]*)" + END, re.S)


def der_whole(der):
    """A DER SEQUENCE whose length is exactly the bytes given."""
    if len(der) < 2 or der[0] != 0x30:
        return False
    n = der[1]
    if n < 0x80:
        return 2 + n == len(der)
    k = n & 0x7F
    if k == 0 or k > 4 or len(der) < 2 + k:
        return False
    return 2 + k + int.from_bytes(der[2:2 + k], "big") == len(der)


def parsed(text, nb):
    """How many certificates OpenSSL loads from text: through Python's ssl
    for a few, through `openssl storeutl` for many (ssl's X509_STORE slows
    down with the square of the count)."""
    if nb <= 2000:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            ctx.load_verify_locations(cadata=text)
        except ssl.SSLError as e:
            return None, "a block does not parse: %s" % e
        return ctx.cert_store_stats()["x509"], None
    r = subprocess.run(["openssl", "storeutl", "-noout", "-certs", "/dev/stdin"],
                       input=text.encode("ascii", "replace"), capture_output=True)
    m = re.search(rb"Total found: (\d+)", r.stdout)
    if r.returncode != 0 or m is None:
        return None, "openssl storeutl: %s" % r.stderr.decode(errors="replace")[:200]
    return int(m.group(1)), None


def whole(text):
    """(number of certificates, None) or (None, reason)."""
    nb, ne = text.count(BEGIN), text.count(END)
    if nb != ne:
        return None, "%d BEGIN lines, %d END lines" % (nb, ne)
    blocks = BLOCK.findall(text)
    if len(blocks) != nb:
        return None, "%d of %d blocks are well formed" % (len(blocks), nb)
    for i, b in enumerate(blocks):
        try:
            der = base64.b64decode(b.replace("\n", ""), validate=True)
        except ValueError:
            return None, "block %d is not base64" % (i + 1)
        if not der_whole(der):
            return None, "block %d is not one whole DER structure" % (i + 1)
    if nb == 0:
        return 0, None
    n, why = parsed(text, nb)
    if why is not None:
        return None, why
    if n != nb:
        return None, "%d of %d blocks parse" % (n, nb)
    return n, None


def read(path):
    with open(path, "r", encoding="ascii", errors="replace") as f:
        return f.read()


def count(path):
    n, why = whole(read(path))
    if why is not None:
        print("%s is torn: %s" % (path, why))
        return 1
    print(n)
    return 0


def loop(mnt, stop, report):
    stats = {"bundles": 0, "files": 0, "lists": 0, "bad": 0}
    faults = []

    def fault(msg):
        stats["bad"] += 1
        if len(faults) < 10:
            faults.append(msg)

    def listdir(d):
        try:
            names = os.listdir(d)
        except OSError as e:
            fault("ls %s: %s" % (d, e.strerror))
            return []
        stats["lists"] += 1
        return names

    def read_one(path, want):
        try:
            text = read(path)
        except OSError as e:
            if e.errno != errno.ENOENT:
                fault("read %s: %s" % (path, e.strerror))
            return
        n, why = whole(text)
        stats["files"] += 1
        if why is not None:
            fault("%s is torn: %s" % (path, why))
        elif want is not None and n != want:
            fault("%s holds %d certificates, want %d" % (path, n, want))

    # Each round reads bundle.pem and a few certs/ and roots/ files in
    # turn: the kernel's page cache of one must never serve the other's
    # older content.
    dirs = ["", "roots", "distrusted", "pinned", "rejected", "chains", "certs"]
    turn = 0
    while not os.path.exists(stop):
        try:
            text = read(os.path.join(mnt, "bundle.pem"))
            stats["bundles"] += 1
            n, why = whole(text)
            if why is not None:
                fault("bundle.pem is torn: %s" % why)
                if not os.path.exists(report + ".torn"):
                    with open(report + ".torn", "w") as f:
                        f.write(text)
        except OSError as e:
            fault("read bundle.pem: %s" % e.strerror)
        for d in dirs:
            names = sorted(listdir(os.path.join(mnt, d)))
            if d in ("certs", "roots") and names:
                for i in range(3):
                    name = names[(turn + i) % len(names)]
                    read_one(os.path.join(mnt, d, name), 1)
        turn += 3
    with open(report, "w") as f:
        f.write(" ".join("%s=%d" % (k, v) for k, v in stats.items()) + "\n")
        for m in faults:
            f.write(m + "\n")
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "count":
        return count(sys.argv[2])
    if len(sys.argv) == 5 and sys.argv[1] == "loop":
        return loop(*sys.argv[2:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
