package ledgertest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
)

// huge is 5·10¹⁸ minor units of Points: within 64 bits, but two of them
// are not.
const huge = "50000000000000000"

// testAuditHugePostings: a four-posting transfer whose debits total more
// than 64 bits hold, though each account's change and the transfer's net
// fit (the Service accepts it), is a correct ledger.
func testAuditHugePostings(t *testing.T, f *Fixture) {
	// IDs chosen so that the balances' running sum in ID order fits.
	f.Issuer("a-iss", Points)
	f.Open("b-vol", Points)
	f.Issuer("c-iss", Points)
	f.Open("d-vol", Points)
	ps := append(ledger.Move(Points, "a-iss", "b-vol", D(huge)), ledger.Move(Points, "c-iss", "d-vol", D(huge))...)
	r, err := f.Svc.Transfer(f.Ctx, ledger.TransferRequest{ID: "big", Postings: ps, Reason: "test"})
	require.NoError(t, err)
	require.Equal(t, ledger.StatusPosted, r.Status)
	CheckInvariants(t, f.Svc)
}

// testAuditHugeBalances: balances that sum to zero, each within 64 bits,
// whose running sum in account ID order is not, are a correct ledger.
func testAuditHugeBalances(t *testing.T, f *Fixture) {
	f.Open("a-vol", Points)
	f.Open("b-vol", Points)
	f.Issuer("y-iss", Points)
	f.Issuer("z-iss", Points)
	f.MustMove("t1", Points, "y-iss", "a-vol", huge)
	f.MustMove("t2", Points, "z-iss", "b-vol", huge)
	CheckInvariants(t, f.Svc)
}
