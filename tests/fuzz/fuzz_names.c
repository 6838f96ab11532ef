/*
 * libFuzzer harness for the name rules (DESIGN section 2, src/lib/names.h)
 * and entry_name, which applies them per directory.  The input is one to
 * eight names separated by NUL bytes.  Besides crashes, leaks and undefined
 * behaviour it checks the rules' promises: a normalized name is a valid
 * file name and normalizing it again changes nothing; split and make undo
 * each other; no output is longer than its buffer or than 255 bytes; a
 * refusal says why.
 */
#include "entry.h"
#include "names.h"
#include "fuzz.h"

static const unsigned ports[] = { 0, 1, 443, 8082, 65535, 65536, 4294967295u };

/* A HOST_PORT that name_host_port produced or accepted as normal. */
static void
check_normal_hp(const char *hp)
{
	char again[NAME_MAX_BYTES + 1], host[NAME_MAX_BYTES + 1],
	    made[NAME_MAX_BYTES + 1];
	unsigned port = 0;

	FUZZ_CHECK(strlen(hp) <= NAME_MAX_BYTES);
	FUZZ_CHECK(name_check_file(hp) == 0);
	FUZZ_CHECK(name_host_port(hp, again, sizeof(again)) == 0);
	FUZZ_CHECK(strcmp(hp, again) == 0);
	FUZZ_CHECK(name_host_port_split(hp, host, sizeof(host), &port) == 0);
	FUZZ_CHECK(host[0] != '\0' && port >= 1 && port <= 65535);
	FUZZ_CHECK(name_host_port_make(host, port, made, sizeof(made)) == 0);
	FUZZ_CHECK(strcmp(hp, made) == 0);
	/* The daemon treats temporary names apart: a pin is never one. */
	FUZZ_CHECK(!name_is_temporary(hp));
}

static void
check_one(const char *s, size_t len)
{
	char out[NAME_MAX_BYTES + 1], small[12], host[NAME_MAX_BYTES + 1];
	struct tf_error e;
	unsigned port, i;
	int rc, db;

	rc = name_check_file(s);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENAMETOOLONG);
	if (rc == 0)
		FUZZ_CHECK(len > 0 && len <= NAME_MAX_BYTES &&
		    memchr(s, '/', len) == NULL && fuzz_one_line(s, len) &&
		    fuzz_utf8_valid((const unsigned char *)s, len));
	if (name_is_label(s))
		FUZZ_CHECK(rc == 0 && len > 4 && s[0] != '.' &&
		    strcmp(s + len - 4, ".pem") == 0);
	(void)name_is_temporary(s);

	rc = name_host_port(s, out, sizeof(out));
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENAMETOOLONG);
	if (rc == 0)
		check_normal_hp(out);
	rc = name_host_port(s, small, sizeof(small));
	if (rc == 0)
		FUZZ_CHECK(strlen(small) < sizeof(small));

	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		rc = name_host_port_make(s, ports[i], out, sizeof(out));
		FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENAMETOOLONG);
		if (rc == 0) {
			FUZZ_CHECK(ports[i] >= 1 && ports[i] <= 65535);
			check_normal_hp(out);
		}
		rc = name_host_port_make(s, ports[i], small, sizeof(small));
		if (rc == 0)
			FUZZ_CHECK(strlen(small) < sizeof(small));
	}

	rc = name_host_port_split(s, host, sizeof(host), &port);
	if (rc == 0)
		FUZZ_CHECK(host[0] != '\0' && port >= 1 && port <= 65535 &&
		    strlen(host) < len);
	rc = name_host_port_split(s, small, sizeof(small), &port);
	if (rc == 0)
		FUZZ_CHECK(strlen(small) < sizeof(small));

	for (i = 0; i < 4; i++) {
		unsigned nth = i == 3 ? 4294967295u : i;

		rc = name_label_nth(s, nth, out, sizeof(out));
		FUZZ_CHECK(rc == 0 || rc == -ENAMETOOLONG);
		if (rc == 0)
			FUZZ_CHECK(strlen(out) <= NAME_MAX_BYTES &&
			    strlen(out) >= 4);
		rc = name_label_nth(s, nth, small, sizeof(small));
		if (rc == 0)
			FUZZ_CHECK(strlen(small) < sizeof(small));
	}

	for (db = 0; db < STORE_NDBS; db++) {
		fuzz_error_stale(&e);
		rc = entry_name((enum store_db)db, s, out, sizeof(out), &e);
		FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENAMETOOLONG);
		if (rc != 0) {
			fuzz_error_check(&e, rc);
			FUZZ_CHECK(entry_name((enum store_db)db, s, out,
			    sizeof(out), NULL) == rc);
			continue;
		}
		FUZZ_CHECK(name_check_file(out) == 0);
		if (db == STORE_PINNED || db == STORE_REJECTED)
			check_normal_hp(out);
		else
			FUZZ_CHECK(name_is_label(out) && strcmp(out, s) == 0);
		rc = entry_name((enum store_db)db, s, small, sizeof(small), &e);
		if (rc == 0)
			FUZZ_CHECK(strlen(small) < sizeof(small));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1);
	const char *s, *end;
	size_t len, n;

	FUZZ_CHECK(copy != NULL);
	memcpy(copy, data, size);
	copy[size] = '\0';
	end = copy + size;
	/* A few names per input: more only slow each execution down. */
	for (s = copy, n = 0; s <= end && n < 8; s += len + 1, n++) {
		len = strlen(s);
		check_one(s, len);
	}
	free(copy);
	return 0;
}
