package sqlite

import (
	"fmt"

	"github.com/civicloop/civicloop/ledger"
)

// The writer keeps the committed state of the ledger accounts it wrote
// (balance, version, last hash, ...) so that a transfer does not read its
// accounts back from the file: with groups of a few transfers, that read
// is a sixth of the writer's work. Only the writer goroutine touches the
// cache, and it trusts an entry only while nothing else can have changed
// the row:
//
//   - States written by a transaction go to an overlay, and into the cache
//     only when that transaction has committed. A later pass of the same
//     transaction sees the overlay (the file's state inside the
//     transaction, not the last commit's).
//   - Any rollback (of the transaction or of a savepoint) or failed commit
//     empties the overlay and the cache: what is left is re-read from the
//     file.
//   - A write to ledger_accounts other than the ledger's flush (closing an
//     account) drops that account from both.
//   - Another connection, in this process or another, may write the file
//     between two transactions: the first lookup of each transaction reads
//     PRAGMA data_version, which changes when any other connection has
//     committed, and empties the cache when it did.
//
// If an entry were ever stale all the same, the account's UPDATE, which
// requires the row to be at the version the transaction read, changes no
// row: the writer then drops the cache, rolls the transaction back and
// runs the requests again from the file (errStaleAccount).
type acache struct {
	committed map[ledger.AccountID]ledger.AccountState
	overlay   map[ledger.AccountID]ledger.AccountState
	// checked is true once this transaction compared data_version.
	checked bool
	// version is the data_version the committed states were read under;
	// known is false until it has been read once.
	version int64
	known   bool
}

// acacheMax bounds the accounts the cache holds; when a commit would grow
// it beyond that, it starts again from the accounts of that commit.
const acacheMax = 1 << 16

func newACache() *acache {
	return &acache{
		committed: make(map[ledger.AccountID]ledger.AccountState),
		overlay:   make(map[ledger.AccountID]ledger.AccountState),
	}
}

// begin is called when a transaction starts.
func (c *acache) begin() {
	clear(c.overlay)
	c.checked = false
}

// commit moves what the transaction wrote into the cache.
func (c *acache) commit() {
	if len(c.committed)+len(c.overlay) > acacheMax {
		clear(c.committed)
	}
	for id, st := range c.overlay {
		c.committed[id] = st
	}
	clear(c.overlay)
	c.checked = false
}

// drop forgets everything: after a rollback, a failed commit, or a change
// by another connection.
func (c *acache) drop() {
	clear(c.overlay)
	clear(c.committed)
	c.checked = false
}

// forget drops one account, whose row was written other than by put.
func (c *acache) forget(id ledger.AccountID) {
	delete(c.overlay, id)
	delete(c.committed, id)
}

// put records an account state the transaction has written to the file.
func (c *acache) put(st *ledger.AccountState) {
	c.overlay[st.ID] = *st
}

// get returns the state of id as the current transaction sees it, if
// known. check must have been called in this transaction.
func (c *acache) get(id ledger.AccountID) (ledger.AccountState, bool) {
	if st, ok := c.overlay[id]; ok {
		return st, true
	}
	st, ok := c.committed[id]
	return st, ok
}

// check makes sure, once per transaction, that no other connection has
// committed since the cache was filled, and empties it if one has.
func (c *acache) check(tx *wtx) error {
	if c.checked {
		return nil
	}
	var v int64
	n := 0
	err := tx.queryValues(`PRAGMA data_version`, nil, func(r valuesRow) error {
		n++
		return r.Scan(&v)
	})
	if err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("sqlite: PRAGMA data_version returned %d rows", n)
	}
	if !c.known || v != c.version {
		// The overlay holds this transaction's own writes, made under
		// the write lock: they stay true.
		clear(c.committed)
		c.version, c.known = v, true
	}
	c.checked = true
	return nil
}
