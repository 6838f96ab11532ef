/*
 * What a key of the fleet holds in etcd, and how a node takes it in.
 *
 * Keys, under the prefix: DIR/NAME for pinned/, rejected/, roots/,
 * distrusted/ and chains/ (the mount's names), and "policy".  Values are
 * JSON objects written by trustfs:
 *   {"node":"A","time":1700000000,"pem":"-----BEGIN CERTIFICATE-----..."}
 *   {"node":"A","time":...,"pem":"...","pinned_sha256":"HEX"}  rejected/
 *   {"node":"A","time":...,"policy":"*  tofu\n"}              policy
 *   {"node":"A","time":...,"deleted":true}                    a tombstone
 * A removal is a tombstone, never an etcd delete, so that a node that was
 * away learns of it and cannot bring the entry back.
 */
#ifndef TRUSTFS_SYNC_APPLY_H
#define TRUSTFS_SYNC_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "etcd.h"
#include "store.h"

/* The biggest value a node takes (a chain of certificates as PEM). */
#define SYNC_VALUE_MAX (2u << 20)

/* The value for key's local state, in txn, written by node (self):
 * a tombstone when the entry is not there.  0 or a negative errno. */
int sync_value_local(struct store_txn *txn, const char *key,
    const char *node, struct buf *out, struct tf_error *e);

/* What applying a pair did. */
enum sync_outcome {
	SYNC_SEEN,		/* not newer than what the node has */
	SYNC_SAME,		/* the node holds this already */
	SYNC_APPLIED,		/* taken in */
	SYNC_CONFLICT,		/* taken in over a local change that lost */
	SYNC_KEPT,		/* our own older value: the local change waits */
	SYNC_REFUSED		/* malformed or against the rules: audited */
};

/*
 * Takes in kv (its key with the prefix taken off: rel_key) in txn: the
 * same parsing and entry rules as a local write, audited with
 * origin=NODE, recorded in no outbox.  A local change of the key still
 * waiting in the outbox loses to kv (kv was committed to etcd first): a
 * pin's losing certificate goes to rejected/ with the mismatch audited.
 * force: take kv even if its revision is not newer than the kept one.
 * 0 with *out set, or a store error (a refusal is not an error).
 */
int sync_apply(struct store_txn *txn, const char *self, const char *rel_key,
    const struct etcd_kv *kv, int force, enum sync_outcome *out);

/* Adds every local entry and the policy to the outbox (a node that joins
 * with a store of its own merges it). */
int sync_enqueue_all(struct store_txn *txn);

#endif
