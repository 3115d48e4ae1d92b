package sqlite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
	"github.com/civicloop/civicloop/points/pointstest"
)

// The crash test runs this test binary again as a child process that
// writes ledger transfers (plain, in batches, holds with their posts and
// voids, reversals) and confirmed service records (points) as fast as it
// can and prints the ID of every write it got acknowledged, with its status
// and what it refers to; the parent kills it with SIGKILL at a random
// moment, then reopens the file and checks that nothing acknowledged was
// lost and that nothing was half applied.

const (
	crashEnvPath  = "CIVICLOOP_SQLITE_CRASH_PATH"
	crashEnvRound = "CIVICLOOP_SQLITE_CRASH_ROUND"
	crashRounds   = 20
	crashAccounts = 8
)

func TestCrashSafety(t *testing.T) {
	if os.Getenv(crashEnvPath) != "" {
		t.Skip("running as the crash child")
	}
	if testing.Short() {
		t.Skip("crash test starts child processes; skipped with -short")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	acked := map[string]string{} // transfer ID -> acknowledged status
	for round := range crashRounds {
		got := runCrashChild(t, path, round, time.Duration(rng.IntN(150))*time.Millisecond)
		for id, st := range got {
			acked[id] = st
		}
		checkAfterCrash(t, path, acked)
	}
	records := 0
	kinds := map[string]int{}
	for id, st := range acked {
		if strings.HasPrefix(id, "record:") {
			records++
		}
		for _, f := range strings.Fields(st) {
			if k, ok := strings.CutPrefix(f, "kind="); ok {
				kinds[k]++
			}
		}
	}
	require.NotZero(t, records, "the children confirmed service records")
	require.NotZero(t, kinds["hold"], "the children made holds")
	require.NotZero(t, kinds["post"]+kinds["void"], "the children posted or voided holds")
	require.NotZero(t, kinds["reversal"], "the children reversed transfers")
	t.Logf("%d acknowledged writes (%d of them confirmed records, %v) survived %d kills", len(acked), records, kinds, crashRounds)
}

// runCrashChild starts the child, waits until it has acknowledged its first
// write and then for delay, kills it and returns what it acknowledged.
func runCrashChild(t *testing.T, path string, round int, delay time.Duration) map[string]string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnvPath+"="+path, crashEnvRound+"="+strconv.Itoa(round))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	acks := make(chan [2]string, 1024)
	readDone := make(chan error, 1)
	go func() { readDone <- readAcks(out, acks) }()

	got := map[string]string{}
	first := time.After(20 * time.Second)
	select {
	case a, ok := <-acks:
		if ok {
			got[a[0]] = a[1]
		}
	case <-first:
		t.Fatal("crash child acknowledged nothing within 20s")
	}
	kill := time.After(delay)
collect:
	for {
		select {
		case a := <-acks:
			got[a[0]] = a[1]
		case <-kill:
			break collect
		}
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	for a := range acks {
		got[a[0]] = a[1]
	}
	require.NoError(t, <-readDone)
	err = cmd.Wait()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "child must die by the signal, got %v", err)
	ws, ok := exit.Sys().(syscall.WaitStatus)
	require.True(t, ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL, "child must die by SIGKILL, not %v", err)
	return got
}

// readAcks sends every complete "ID status" line; a line cut by the kill
// was never acknowledged and is dropped.
func readAcks(r io.Reader, acks chan<- [2]string) error {
	defer close(acks)
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		id, st, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		if !ok {
			continue // the test framework's own output
		}
		acks <- [2]string{id, st}
	}
}

// checkAfterCrash reopens the file and checks it against what the children
// acknowledged.
func checkAfterCrash(t *testing.T, path string, acked map[string]string) {
	t.Helper()
	ctx := context.Background()
	db, svc := openLedger(t, path, nil)
	defer db.Close()
	for id, st := range acked {
		if rec, ok := strings.CutPrefix(id, "record:"); ok {
			r, err := db.Points().Record(ctx, rec)
			require.NoError(t, err, "acknowledged record %s lost", rec)
			require.Equal(t, st, string(r.Status), "record %s", rec)
			continue
		}
		tr, err := svc.TransferByID(ctx, ledger.TransferID(id))
		require.NoError(t, err, "acknowledged transfer %s lost", id)
		checkAcked(t, tr, st, acked)
	}
	_, err := svc.Audit(ctx)
	require.NoError(t, err, "ledger invariants after a crash")
	require.NoError(t, svc.Verify(ctx, ""))

	// No half-applied transfer: a posted transfer (not a hold) has one
	// entry per posting (every posting here names another account); any
	// other transfer has none.
	rows, err := db.read.Query(`SELECT t.id, t.kind, t.status, json_array_length(t.postings),
		(SELECT count(*) FROM ledger_entries e WHERE e.transfer_id = t.id)
		FROM ledger_transfers t`)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var (
			id                              string
			kind, status, postings, entries int
		)
		require.NoError(t, rows.Scan(&id, &kind, &status, &postings, &entries))
		if ledger.Status(status) == ledger.StatusPosted && ledger.Kind(kind) != ledger.KindHold {
			require.Equal(t, postings, entries, "transfer %s", id)
		} else {
			require.Zero(t, entries, "transfer %s", id)
		}
	}
	require.NoError(t, rows.Err())
}

// checkAcked checks a transfer against its acknowledgement: "status",
// then "field=value" for the fields the child knew (kind, ref,
// resolved-by, reversed-by, posted).
func checkAcked(t *testing.T, tr ledger.Transfer, ack string, acked map[string]string) {
	t.Helper()
	fields := strings.Fields(ack)
	require.NotEmpty(t, fields, "acknowledgement of %s", tr.ID)
	if fields[0] == ledger.StatusPending.String() && tr.Status != ledger.StatusPending {
		// Only a post or void whose acknowledgement the kill cut off may
		// have resolved an acknowledged hold: an acknowledged one comes
		// with the hold's new status.
		require.NotEmpty(t, tr.ResolvedBy, "hold %s acknowledged pending is %s", tr.ID, tr.Status)
		_, ok := acked[string(tr.ResolvedBy)]
		require.False(t, ok, "hold %s: its resolution %s was acknowledged, yet the hold was acknowledged pending", tr.ID, tr.ResolvedBy)
	} else {
		require.Equal(t, fields[0], tr.Status.String(), "transfer %s", tr.ID)
	}
	for _, kv := range fields[1:] {
		k, want, _ := strings.Cut(kv, "=")
		var got string
		switch k {
		case "kind":
			got = tr.Kind.String()
		case "ref":
			got = string(tr.Ref)
		case "resolved-by":
			got = string(tr.ResolvedBy)
		case "reversed-by":
			got = string(tr.ReversedBy)
		case "posted":
			got = tr.PostedAmount.String()
		default:
			t.Fatalf("transfer %s: unknown field %q in acknowledgement %q", tr.ID, kv, ack)
		}
		require.Equal(t, want, got, "transfer %s: field %s", tr.ID, k)
	}
}

// TestCrashChild is the child side of TestCrashSafety; it does nothing in
// a normal test run.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnvPath)
	if path == "" {
		t.Skip("only run as a child of TestCrashSafety")
	}
	round := os.Getenv(crashEnvRound)
	ctx := context.Background()
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := ledger.New(db.Ledger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := -1; i < crashAccounts; i++ {
		spec := ledger.AccountSpec{ID: volunteer(i), Asset: testPoints}
		if i < 0 {
			spec = ledger.AccountSpec{ID: "issuer", Asset: testPoints, NoFloor: true}
		}
		if _, err := svc.OpenAccount(ctx, spec); err != nil && !errors.Is(err, ledger.ErrAccountExists) {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	request := func(n int) ledger.TransferRequest {
		from, to := ledger.AccountID("issuer"), volunteer(rng.IntN(crashAccounts))
		if rng.IntN(2) == 0 { // between volunteers: may be refused
			from = volunteer(rng.IntN(crashAccounts))
		}
		if from == to {
			to = "issuer"
		}
		return ledger.TransferRequest{
			ID:       ledger.TransferID(fmt.Sprintf("r%s-%d", round, n)),
			Postings: ledger.Move(testPoints, from, to, decimal.New(int64(1+rng.IntN(500)), -2)),
			Reason:   "crash-test",
		}
	}
	// pending and reversible are acknowledged holds to post or void, and
	// posted transfers and posts to reverse.
	var pending, reversible []ledger.TransferID
	take := func(ids *[]ledger.TransferID) ledger.TransferID {
		i := rng.IntN(len(*ids))
		id := (*ids)[i]
		(*ids)[i] = (*ids)[len(*ids)-1]
		*ids = (*ids)[:len(*ids)-1]
		return id
	}
	refusedOK := func(r ledger.Result, err error) ledger.Result {
		if err != nil && r.Status != ledger.StatusRefused {
			t.Fatal(err)
		}
		return r
	}
	// resolve posts (in full or in part) or voids hold and returns the
	// acknowledgement lines.
	resolve := func(hold ledger.TransferID, n int) []string {
		id := ledger.TransferID(fmt.Sprintf("r%s-%d", round, n))
		var (
			r      ledger.Result
			kind   = "void"
			posted string
		)
		switch rng.IntN(3) {
		case 0:
			r = refusedOK(svc.Void(ctx, ledger.VoidRequest{ID: "v" + id, Hold: hold, Reason: "crash-test"}))
		case 1:
			kind = "post"
			r = refusedOK(svc.Post(ctx, ledger.PostRequest{ID: "p" + id, Hold: hold, Reason: "crash-test"}))
		default: // a partial post: every hold holds at least 0.01
			kind, posted = "post", " posted=0.01"
			r = refusedOK(svc.Post(ctx, ledger.PostRequest{ID: "p" + id, Hold: hold, Amount: decimal.New(1, -2), Reason: "crash-test"}))
		}
		lines := []string{fmt.Sprintf("%s %s kind=%s ref=%s", r.ID, r.Status, kind, hold)}
		if r.Status != ledger.StatusRefused {
			lines = append(lines, fmt.Sprintf("%s %s kind=hold resolved-by=%s%s", hold, r.Status, r.ID, posted))
		}
		if r.Status == ledger.StatusPosted {
			reversible = append(reversible, r.ID)
		}
		return lines
	}
	rec := newCrashRecorder(t, db, round)
	deadline := time.Now().Add(30 * time.Second)
	w := bufio.NewWriter(os.Stdout)
	for n := 0; time.Now().Before(deadline); {
		var results []ledger.Result
		if rng.IntN(4) == 0 {
			id, status := rec.next()
			fmt.Fprintf(w, "record:%s %s\n", id, status)
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		// Under -race a child may live for only a dozen writes: it starts
		// with a hold, and resolves and reverses often enough that every run
		// has some of each.
		var lines []string
		switch {
		case len(pending) > 0 && rng.IntN(3) == 0:
			lines = resolve(take(&pending), n)
			n++
		case len(reversible) > 0 && rng.IntN(6) == 0:
			orig := take(&reversible)
			r := refusedOK(svc.Reverse(ctx, ledger.ReverseRequest{
				ID: ledger.TransferID(fmt.Sprintf("xr%s-%d", round, n)), Original: orig, Reason: "crash-test",
			}))
			n++
			lines = append(lines, fmt.Sprintf("%s %s kind=reversal ref=%s", r.ID, r.Status, orig))
			if r.Status == ledger.StatusPosted {
				lines = append(lines, fmt.Sprintf("%s posted reversed-by=%s", orig, r.ID))
			}
		case n == 0 || rng.IntN(6) == 0:
			req := request(n)
			if n == 0 { // from the issuer, who always has the funds
				req.Postings = ledger.Move(testPoints, "issuer", volunteer(0), decimal.New(int64(1+rng.IntN(500)), -2))
			}
			n++
			req.ID = "h" + req.ID
			req.HoldUntil = time.Now().Add(time.Hour)
			r := refusedOK(svc.Transfer(ctx, req))
			lines = append(lines, fmt.Sprintf("%s %s kind=hold", r.ID, r.Status))
			if r.Status == ledger.StatusPending {
				pending = append(pending, r.ID)
			}
		}
		if lines != nil {
			for _, l := range lines {
				fmt.Fprintln(w, l)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if rng.IntN(8) == 0 {
			reqs := make([]ledger.TransferRequest, 1+rng.IntN(50))
			for i := range reqs {
				reqs[i] = request(n)
				n++
			}
			results, err = svc.TransferBatch(ctx, reqs)
			if err != nil {
				t.Fatal(err)
			}
		} else {
			r, err := svc.Transfer(ctx, request(n))
			n++
			if err != nil && r.Status != ledger.StatusRefused {
				t.Fatal(err)
			}
			results = []ledger.Result{r}
		}
		for _, r := range results {
			fmt.Fprintf(w, "%s %s\n", r.ID, r.Status)
			if r.Status == ledger.StatusPosted && len(reversible) < 1000 {
				reversible = append(reversible, r.ID)
			}
		}
		// One write per acknowledgement batch: the parent sees only what
		// is durable.
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
}

// crashRecorder records and confirms service records through the points
// service, on the same file as the ledger.
type crashRecorder struct {
	env   *pointstest.Env
	round string
	n     int
}

const crashVolunteers = 16

func newCrashRecorder(t *testing.T, db *DB, round string) *crashRecorder {
	env := pointstest.NewEnv(t, db.Points(), db.Ledger(), func(o *points.Options) {
		var n atomic.Int64
		o.NewID = func() string { return fmt.Sprintf("r%s-%06d", round, n.Add(1)) }
	})
	for i := range crashVolunteers {
		env.Dir.Add(org.VolunteerID(fmt.Sprintf("R%s-V%02d", round, i)))
	}
	env.Clock.Set(pointstest.Day(3650))
	return &crashRecorder{env: env, round: round}
}

// next records one hour of service, confirms it, and returns the record's
// ID and acknowledged status.
func (c *crashRecorder) next() (string, points.RecordStatus) {
	in := pointstest.Input(org.VolunteerID(fmt.Sprintf("R%s-V%02d", c.round, c.n%crashVolunteers)), c.n/crashVolunteers, 60)
	c.n++
	r := c.env.Confirmed(in)
	return r.ID, r.Status
}
