package ledgertest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
)

// This file holds tests that reach the store through a wrapper: one that
// runs a hook after each read, to make something happen between a
// Service's read and its write, and one that hides the store's optional
// capabilities, as a user's metrics or fault-injecting wrapper does.

// hookStore wraps a store; afterRead, when set, runs after each Transfer
// read through the wrapper, with the ID read and the read's error.
type hookStore struct {
	ledger.Store
	afterRead func(id ledger.TransferID, err error)
}

func (h *hookStore) Transfer(ctx context.Context, id ledger.TransferID) (ledger.TransferRecord, error) {
	r, err := h.Store.Transfer(ctx, id)
	if h.afterRead != nil {
		h.afterRead(id, err)
	}
	return r, err
}

// The hookStore with the optional capabilities of the store it wraps, so
// that a Service over it works as over that store.
type (
	lazyHookStore       struct{ *hookStore }
	copiedHookStore     struct{ *hookStore }
	lazyCopiedHookStore struct{ *hookStore }
)

func (lazyHookStore) FingerprintsOnDemand()       {}
func (copiedHookStore) PostingsCopied()           {}
func (lazyCopiedHookStore) FingerprintsOnDemand() {}
func (lazyCopiedHookStore) PostingsCopied()       {}

// hiddenStore hides every optional capability of the store it embeds.
type hiddenStore struct{ ledger.Store }

// wrapStore returns h as a ledger.Store: with the optional capabilities
// of h.Store when forward, else with none.
func wrapStore(h *hookStore, forward bool) ledger.Store {
	if !forward {
		return hiddenStore{h}
	}
	_, lazy := h.Store.(ledger.FingerprintsOnDemand)
	_, copied := h.Store.(ledger.PostingsCopied)
	switch {
	case lazy && copied:
		return lazyCopiedHookStore{h}
	case lazy:
		return lazyHookStore{h}
	case copied:
		return copiedHookStore{h}
	}
	return h
}

// wrappedService returns a Service with f's clock over f.Store wrapped in
// a hookStore (see wrapStore), and the hookStore.
func (f *Fixture) wrappedService(forward bool) (*ledger.Service, *hookStore) {
	f.T.Helper()
	h := &hookStore{Store: f.Store}
	svc, err := ledger.New(wrapStore(h, forward), &ledger.Options{Now: f.Clock.Now})
	require.NoError(f.T, err)
	return svc, h
}

// capabilityModes runs fn once over a wrapper that keeps the store's
// optional capabilities and once over one that hides them.
func capabilityModes(t *testing.T, f *Fixture, fn func(t *testing.T, svc *ledger.Service, h *hookStore, suffix ledger.TransferID)) {
	for _, mode := range []struct {
		name    string
		forward bool
		suffix  ledger.TransferID
	}{{"Forwarded", true, "-f"}, {"Hidden", false, "-h"}} {
		t.Run(mode.name, func(t *testing.T) {
			svc, h := f.wrappedService(mode.forward)
			fn(t, svc, h, mode.suffix)
		})
	}
}

// testPartialPostHoldPlacedAfterRead: the hold of a partial post appears
// between the Service's read of it and its write. The post is not refused
// for good: it is applied with the amount converted.
func testPartialPostHoldPlacedAfterRead(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("shop", Points)
	capabilityModes(t, f, func(t *testing.T, svc *ledger.Service, h *hookStore, sfx ledger.TransferID) {
		vol := ledger.AccountID("vol" + sfx)
		f.Open(vol, Points)
		f.MustMove("fund"+sfx, Points, "issuer", vol, "10")
		hold, post := "h1"+sfx, "p1"+sfx
		placed := false
		h.afterRead = func(id ledger.TransferID, err error) {
			if id == hold && !placed {
				require.ErrorIs(t, err, ledger.ErrTransferNotFound)
				placed = true
				_, err := f.Hold(hold, Points, vol, "shop", "4", time10m)
				require.NoError(t, err)
			}
		}
		req := ledger.PostRequest{ID: post, Hold: hold, Amount: D("2.5"), Reason: "pickup"}
		r, err := svc.Post(f.Ctx, req)
		require.True(t, placed, "the Service read the hold")
		h.afterRead = nil
		require.NoError(t, err, "the hold exists when the post is written")
		require.Equal(t, ledger.StatusPosted, r.Status)
		require.False(t, r.Replayed)
		f.RequireBalance(vol, "7.5", "7.5")
		rec, err := f.Svc.TransferByID(f.Ctx, post)
		require.NoError(t, err)
		require.Equal(t, ledger.StatusPosted, rec.Status)
		require.True(t, rec.Amount.Equal(D("2.5")), "amount %s", rec.Amount)

		for _, s := range []*ledger.Service{svc, f.Svc} {
			r, err = s.Post(f.Ctx, req)
			require.NoError(t, err)
			require.True(t, r.Replayed)
			require.Equal(t, ledger.StatusPosted, r.Status)
		}
		other := req
		other.Amount = D("3")
		_, err = svc.Post(f.Ctx, other)
		require.ErrorIs(t, err, ledger.ErrIdempotencyConflict)
		f.RequireBalance(vol, "7.5", "7.5")
	})
	f.RequireBalance("shop", "5", "5")
}

// testConcurrentFirstPartialPosts: two first attempts of the same partial
// post race with the placing of its hold. Whichever outcome is recorded
// first, the other attempt, with identical content, replays it.
func testConcurrentFirstPartialPosts(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("shop", Points)
	capabilityModes(t, f, func(t *testing.T, svc *ledger.Service, h *hookStore, sfx ledger.TransferID) {
		vol := ledger.AccountID("vol" + sfx)
		f.Open(vol, Points)
		f.MustMove("fund"+sfx, Points, "issuer", vol, "10")

		// Attempt A, made while attempt B is between its first read and
		// its write, finds no hold and records a refusal; the hold is then
		// placed, still before B writes.
		hold, post := "h1"+sfx, "p1"+sfx
		req := ledger.PostRequest{ID: post, Hold: hold, Amount: D("2.5"), Reason: "pickup"}
		var first ledger.Result
		done := false
		h.afterRead = func(ledger.TransferID, error) {
			if done {
				return
			}
			done = true
			var err error
			first, err = f.Svc.Post(f.Ctx, req)
			require.ErrorIs(t, err, ledger.ErrTransferNotFound)
			_, err = f.Hold(hold, Points, vol, "shop", "4", time10m)
			require.NoError(t, err)
		}
		r, err := svc.Post(f.Ctx, req)
		require.True(t, done)
		requireReplayedRefusal(t, first, r, err)
		f.RequireBalance(vol, "10", "6")

		// Now the other way: attempt B finds no hold; the hold is placed
		// and attempt A posts, before B writes.
		hold, post = "h2"+sfx, "p2"+sfx
		req = ledger.PostRequest{ID: post, Hold: hold, Amount: D("1.5"), Reason: "pickup"}
		done = false
		h.afterRead = func(id ledger.TransferID, err error) {
			if done || id != hold {
				return
			}
			require.ErrorIs(t, err, ledger.ErrTransferNotFound)
			done = true
			_, err = f.Hold(hold, Points, vol, "shop", "2", time10m)
			require.NoError(t, err)
			_, err = f.Svc.Post(f.Ctx, req)
			require.NoError(t, err)
		}
		r, err = svc.Post(f.Ctx, req)
		require.True(t, done)
		h.afterRead = nil
		require.NoError(t, err, "the post recorded by the other attempt")
		require.True(t, r.Replayed)
		require.Equal(t, ledger.StatusPosted, r.Status)
		f.RequireBalance(vol, "8.5", "4.5")
		other := req
		other.Amount = D("1")
		_, err = svc.Post(f.Ctx, other)
		require.ErrorIs(t, err, ledger.ErrIdempotencyConflict)
	})
	f.RequireBalance("shop", "3", "3")
}

// testLegacyUnconvertedPost: a partial post of an unknown hold recorded by
// an earlier build carries Units -1 whatever its amount; retries replay
// its refusal, before and after the hold appears.
func testLegacyUnconvertedPost(t *testing.T, f *Fixture) {
	fundedHoldFixture(f)
	cmd := ledger.Command{ID: "p1", Kind: ledger.KindPost, Ref: "h1", Units: -1, Reason: "pickup",
		RecordedAt: f.Clock.Now().UTC().Truncate(time.Microsecond)}
	if _, lazy := f.Store.(ledger.FingerprintsOnDemand); !lazy {
		// As the Service does for such a store.
		cmd.Fingerprint = ledger.Fingerprint(&cmd)
		cmd.EffectiveAt = cmd.RecordedAt
	}
	rs, err := f.Store.Apply(f.Ctx, []ledger.Command{cmd})
	require.NoError(t, err)
	require.Len(t, rs, 1)
	require.ErrorIs(t, rs[0].Err, ledger.ErrTransferNotFound)
	first := rs[0]

	post := ledger.PostRequest{ID: "p1", Hold: "h1", Amount: D("2.5"), Reason: "pickup"}
	r, err := f.Svc.Post(f.Ctx, post)
	requireReplayedRefusal(t, first, r, err)
	_, err = f.Hold("h1", Points, "vol-1", "shop", "4", time10m)
	require.NoError(t, err)
	f.Clock.Advance(time.Minute)
	r, err = f.Svc.Post(f.Ctx, post)
	requireReplayedRefusal(t, first, r, err)
	// The legacy placeholder kept no trace of the amount.
	post.Amount = D("3")
	r, err = f.Svc.Post(f.Ctx, post)
	requireReplayedRefusal(t, first, r, err)
	post.Reason = "other"
	_, err = f.Svc.Post(f.Ctx, post)
	require.ErrorIs(t, err, ledger.ErrIdempotencyConflict)
	f.RequireBalance("vol-1", "10", "6")
}

// testRetryThroughHiddenCapabilities: a Service over a wrapper that hides
// the store's optional capabilities (so it fingerprints every request and
// defaults effective times itself) replays retries of requests that left
// the effective time zero, its own and those made without the wrapper.
func testRetryThroughHiddenCapabilities(t *testing.T, f *Fixture) {
	fundedHoldFixture(f)
	hidden, err := ledger.New(hiddenStore{f.Store}, &ledger.Options{Now: f.Clock.Now})
	require.NoError(t, err)
	svcs := []struct {
		name string
		svc  *ledger.Service
	}{{"direct", f.Svc}, {"hidden", hidden}}
	type request struct {
		name string
		do   func(s *ledger.Service, sfx string) (ledger.Result, error)
	}
	move := func(s *ledger.Service, id ledger.TransferID, amount string, until time.Time) (ledger.Result, error) {
		return s.Transfer(f.Ctx, ledger.TransferRequest{ID: id, Postings: ledger.Move(Points, "vol-1", "shop", D(amount)),
			Reason: "r", Metadata: map[string]string{"k": "v"}, HoldUntil: until})
	}
	until := f.Clock.Now().Add(time10m)
	reqs := []request{
		{"transfer", func(s *ledger.Service, sfx string) (ledger.Result, error) {
			return move(s, ledger.TransferID("t"+sfx), "1", time.Time{})
		}},
		{"refused transfer", func(s *ledger.Service, sfx string) (ledger.Result, error) {
			return move(s, ledger.TransferID("big"+sfx), "1000", time.Time{})
		}},
		{"hold", func(s *ledger.Service, sfx string) (ledger.Result, error) {
			return move(s, ledger.TransferID("h"+sfx), "1", until)
		}},
		{"held for post", func(s *ledger.Service, sfx string) (ledger.Result, error) {
			return move(s, ledger.TransferID("hp"+sfx), "1", until)
		}},
		{"partial post", func(s *ledger.Service, sfx string) (ledger.Result, error) {
			return s.Post(f.Ctx, ledger.PostRequest{ID: ledger.TransferID("p" + sfx), Hold: ledger.TransferID("hp" + sfx), Amount: D("0.5"), Reason: "r"})
		}},
		{"void", func(s *ledger.Service, sfx string) (ledger.Result, error) {
			return s.Void(f.Ctx, ledger.VoidRequest{ID: ledger.TransferID("v" + sfx), Hold: ledger.TransferID("h" + sfx), Reason: "r"})
		}},
		{"reversal", func(s *ledger.Service, sfx string) (ledger.Result, error) {
			return s.Reverse(f.Ctx, ledger.ReverseRequest{ID: ledger.TransferID("r" + sfx), Original: ledger.TransferID("t" + sfx), Reason: "r"})
		}},
	}
	// Each Service makes its own requests; then every Service retries all.
	firsts := map[string]ledger.Result{}
	for _, s := range svcs {
		for _, rq := range reqs {
			r, err := rq.do(s.svc, s.name)
			if rq.name == "refused transfer" {
				require.ErrorIs(t, err, ledger.ErrInsufficientFunds)
			} else {
				require.NoErrorf(t, err, "%s by %s", rq.name, s.name)
			}
			firsts[rq.name+s.name] = r
		}
	}
	f.Clock.Advance(time.Minute)
	for _, maker := range svcs {
		for _, retrier := range svcs {
			for _, rq := range reqs {
				first := firsts[rq.name+maker.name]
				r, err := rq.do(retrier.svc, maker.name)
				require.NotErrorIsf(t, err, ledger.ErrIdempotencyConflict, "%s by %s retried by %s", rq.name, maker.name, retrier.name)
				require.Truef(t, r.Replayed, "%s by %s retried by %s", rq.name, maker.name, retrier.name)
				require.Equal(t, first.Status, r.Status)
			}
		}
	}
	// An effective time given where the first request left it zero is
	// other content, even if it is the recorded time.
	for _, maker := range svcs {
		tr, err := f.Svc.TransferByID(f.Ctx, ledger.TransferID("t"+maker.name))
		require.NoError(t, err)
		for _, retrier := range svcs {
			_, err = retrier.svc.Transfer(f.Ctx, ledger.TransferRequest{ID: tr.ID, Postings: ledger.Move(Points, "vol-1", "shop", D("1")),
				Reason: "r", Metadata: map[string]string{"k": "v"}, EffectiveAt: tr.RecordedAt})
			require.ErrorIsf(t, err, ledger.ErrIdempotencyConflict, "transfer by %s retried by %s", maker.name, retrier.name)
		}
	}
	// 10 - 2 transfers reversed - 2 holds voided - 2 posts of 0.5.
	f.RequireBalance("vol-1", "9", "9")
}
