// Package ledger is civicloop's double-entry ledger: every point and every
// service hour a volunteer earns (积分, 服务时长) lives in an account, and
// moves only by balanced transfers that are never edited or deleted.
//
// # Model
//
//   - An Asset has a code and a fixed scale ("POINTS", 2 decimal places).
//     Amounts are decimal.Decimal in the API and int64 minor units in
//     storage; an amount that is not positive, has more digits than the
//     scale, or overflows is refused, never rounded.
//   - An Account holds one asset, has a floor (0 by default; none for an
//     issuing account, whose balance goes negative as it issues), an
//     optional ceiling, an owner reference, bounded metadata, and is open
//     or closed. Balances rise with credits and fall with debits; per asset,
//     all balances sum to zero.
//   - A Transfer has an ID that is also its idempotency key, one or more
//     Postings (debits and credits) balanced per asset, a reason code, the
//     acting principal, metadata, and recorded and effective times. All its
//     postings apply or none does. Each account a transfer changes gets one
//     Entry carrying the account's balance and version after it and a hash
//     chaining it to the account's previous entry.
//   - A hold (two-phase transfer) is a transfer with a deadline: its debits
//     are reserved (available = balance − pending debits, never below the
//     floor) and its credits promised (balance + pending credits never above
//     the ceiling) until it is posted in full or in part, voided, or expired
//     by ExpireHolds at a given time. The ledger runs no timers.
//   - A reversal undoes a posted transfer with a new transfer that swaps its
//     postings and references it; a transfer is reversed at most once.
//
// # Idempotency
//
// A request whose ID was recorded before with the same content returns the
// first outcome, a refusal included (a transfer refused for insufficient
// funds stays refused when retried later). The same ID with other content is
// ErrIdempotencyConflict. Requests that fail validation (bad amounts,
// unbalanced postings, oversized metadata) are not recorded.
//
// # Storage
//
// The rules live in this package as pure functions (Apply, CloseState) over a
// Tx, the view of a store inside one atomic write. Store adapters
// (adapters/memory, adapters/sqlite, adapters/postgres) call them inside
// their transactions and only persist the result; the conformance suite
// ledger/ledgertest holds them to the Store contract.
//
// # Usage
//
//	store := memory.NewLedgerStore()
//	svc, err := ledger.New(store, nil)
//	if err != nil { ... }
//	points := ledger.Asset{Code: "POINTS", Scale: 2}
//	_, err = svc.OpenAccount(ctx, ledger.AccountSpec{ID: "issuer", Asset: points, NoFloor: true})
//	_, err = svc.OpenAccount(ctx, ledger.AccountSpec{ID: "vol-1", Asset: points})
//	_, err = svc.Transfer(ctx, ledger.TransferRequest{
//		ID:       "award-1",
//		Postings: ledger.Move(points, "issuer", "vol-1", decimal.RequireFromString("12.50")),
//		Reason:   "service",
//	})
//	acct, err := svc.Account(ctx, "vol-1") // acct.Balance is 12.50
//	err = svc.Verify(ctx, "")               // recomputes every hash chain
package ledger
