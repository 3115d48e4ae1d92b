package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
	"github.com/shopspring/decimal"
)

// Record implements points.Store.
func (s *PointsStore) Record(ctx context.Context, id string) (points.Record, error) {
	if err := ctx.Err(); err != nil {
		return points.Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.records[id]
	if r == nil {
		return points.Record{}, fmt.Errorf("memory: record %q: %w", id, points.ErrNotFound)
	}
	return *r, nil
}

// RecordBySource implements points.Store.
func (s *PointsStore) RecordBySource(ctx context.Context, key string) (points.Record, error) {
	if err := ctx.Err(); err != nil {
		return points.Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.bySource[key]
	if !ok {
		return points.Record{}, fmt.Errorf("memory: record with source key %q: %w", key, points.ErrNotFound)
	}
	return *s.records[id], nil
}

// Records implements points.Store.
func (s *PointsStore) Records(ctx context.Context, v org.VolunteerID, from, to time.Time) ([]points.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rows := rowsIn(s.recsByVol[v], from, to, (*points.Record).At)
	out := make([]points.Record, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	return out, nil
}

// Wallet implements points.Store.
func (s *PointsStore) Wallet(ctx context.Context, v org.VolunteerID) (points.Wallet, error) {
	if err := ctx.Err(); err != nil {
		return points.Wallet{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wallet(v), nil
}

// wallet is Wallet under s.mu: a volunteer never written has a zero
// wallet with Volunteer set.
func (s *PointsStore) wallet(v org.VolunteerID) points.Wallet {
	if w, ok := s.wallets[v]; ok {
		return w
	}
	return points.Wallet{Volunteer: v}
}

// Lots implements points.Store.
func (s *PointsStore) Lots(ctx context.Context, v org.VolunteerID) ([]points.Lot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []points.Lot
	for _, row := range s.lotsByVol[v] {
		if row.lot.Remaining.Sign() > 0 {
			out = append(out, row.lot)
		}
	}
	return out, nil
}

// Lot implements points.Store.
func (s *PointsStore) Lot(ctx context.Context, id string) (points.Lot, error) {
	if err := ctx.Err(); err != nil {
		return points.Lot{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	row := s.lotRow(id)
	if row == nil {
		return points.Lot{}, fmt.Errorf("memory: lot %q: %w", id, points.ErrNotFound)
	}
	return row.lot, nil
}

// DueLots implements points.Store.
func (s *PointsStore) DueLots(ctx context.Context, now time.Time, limit int) ([]points.Lot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dueLots(now, limit), nil
}

// DueLotsWallets implements points.DueWalletsStore: the due lots and their
// volunteers' wallets under one lock.
func (s *PointsStore) DueLotsWallets(ctx context.Context, now time.Time, limit int) ([]points.Lot, []points.Wallet, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	lots := s.dueLots(now, limit)
	var ws []points.Wallet
	seen := make(map[org.VolunteerID]struct{})
	for i := range lots {
		v := lots[i].Volunteer
		if _, ok := seen[v]; ok {
			continue
		}
		seen[v] = struct{}{}
		ws = append(ws, s.wallet(v))
	}
	return lots, ws, nil
}

// dueLots is DueLots under s.mu.
func (s *PointsStore) dueLots(now time.Time, limit int) []points.Lot {
	if s.expDirty {
		slices.SortFunc(s.expIdx[s.expHead:], cmpExpEntry)
		s.expDirty = false
	}
	out := make([]points.Lot, 0, min(limit, len(s.expIdx)-s.expHead))
	nowSec, nowNsec := expAt(now)
	s.dueRows = s.dueRows[:0]
	live := false // whether a live entry was passed; the head stops there
	for i := s.expHead; i < len(s.expIdx) && len(out) < limit; i++ {
		e := s.expIdx[i]
		l := &e.row.lot
		if e.gen != e.row.gen || l.Remaining.Sign() <= 0 || e.compare(expAt(l.ExpiresAt)) != 0 {
			if !live {
				s.expHead = i + 1
			}
			continue
		}
		if e.compare(nowSec, nowNsec) > 0 {
			break
		}
		live = true
		out = append(out, *l)
		s.dueRows = append(s.dueRows, e.row)
	}
	if s.expHead > 4096 && s.expHead > len(s.expIdx)/2 {
		s.expIdx = slices.Clone(s.expIdx[s.expHead:])
		s.expHead = 0
	}
	return out
}

// Award implements points.Store.
func (s *PointsStore) Award(ctx context.Context, id string) (points.Award, error) {
	if err := ctx.Err(); err != nil {
		return points.Award{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	row, ok := s.awards[id]
	if !ok {
		return points.Award{}, fmt.Errorf("memory: award %q: %w", id, points.ErrNotFound)
	}
	return cloneAward(row.award), nil
}

// Awards implements points.Store.
func (s *PointsStore) Awards(ctx context.Context, v org.VolunteerID, from, to time.Time) ([]points.Award, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rows := rowsIn(s.awardsByVol[v], from, to, func(r *pointsAwardRow) time.Time { return r.award.At })
	out := make([]points.Award, 0, len(rows))
	for _, r := range rows {
		out = append(out, cloneAward(r.award))
	}
	return out, nil
}

// Usage implements points.Store.
func (s *PointsStore) Usage(ctx context.Context, v org.VolunteerID, periods []string) ([]decimal.Decimal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]decimal.Decimal, len(periods))
	for i, p := range periods {
		out[i] = points.PointsAsset.FromUnits(s.usage[v].get(p))
	}
	return out, nil
}

// UsageUnits implements points.UsageUnitsStore.
func (s *PointsStore) UsageUnits(ctx context.Context, v org.VolunteerID, periods []string, out []int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(out) != len(periods) {
		return fmt.Errorf("memory: usage of %q: %d periods but room for %d: %w", v, len(periods), len(out), points.ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	vu := s.usage[v]
	for i, p := range periods {
		out[i] = vu.get(p)
	}
	return nil
}

// Levels implements points.Store.
func (s *PointsStore) Levels(ctx context.Context, v org.VolunteerID) ([]points.LevelChange, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.levels[v]), nil
}

// Objection implements points.Store.
func (s *PointsStore) Objection(ctx context.Context, id string) (points.Objection, error) {
	if err := ctx.Err(); err != nil {
		return points.Objection{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objections[id]
	if !ok {
		return points.Objection{}, fmt.Errorf("memory: objection %q: %w", id, points.ErrNotFound)
	}
	return cloneObjection(o), nil
}

// Objections implements points.Store.
func (s *PointsStore) Objections(ctx context.Context, record string) ([]points.Objection, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []points.Objection
	for _, id := range s.objByRecord[record] {
		out = append(out, cloneObjection(s.objections[id]))
	}
	return out, nil
}

// Item implements points.Store.
func (s *PointsStore) Item(ctx context.Context, id string) (points.Item, error) {
	if err := ctx.Err(); err != nil {
		return points.Item{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[id]
	if !ok {
		return points.Item{}, fmt.Errorf("memory: item %q: %w", id, points.ErrNotFound)
	}
	return it, nil
}

// Items implements points.Store.
func (s *PointsStore) Items(ctx context.Context, owner org.NodeID) ([]points.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []points.Item
	for _, it := range s.items {
		if owner == "" || it.Owner == owner {
			out = append(out, it)
		}
	}
	slices.SortFunc(out, func(a, b points.Item) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out, nil
}

// Redemption implements points.Store.
func (s *PointsStore) Redemption(ctx context.Context, id string) (points.Redemption, error) {
	if err := ctx.Err(); err != nil {
		return points.Redemption{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.redemptions[id]
	if r == nil {
		return points.Redemption{}, fmt.Errorf("memory: redemption %q: %w", id, points.ErrNotFound)
	}
	return cloneRedemption(r.red), nil
}

// Redemptions implements points.Store.
func (s *PointsStore) Redemptions(ctx context.Context, v org.VolunteerID, item string, since time.Time) ([]points.Redemption, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rows := s.redByVol[v]
	i := sort.Search(len(rows), func(i int) bool { return !rows[i].red.HeldAt.Before(since) })
	var out []points.Redemption
	for _, r := range rows[i:] {
		if r.red.Item == item {
			out = append(out, cloneRedemption(r.red))
		}
	}
	return out, nil
}

// DueRedemptions implements points.Store.
func (s *PointsStore) DueRedemptions(ctx context.Context, now time.Time, limit int) ([]points.Redemption, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []points.Redemption
	for id := range s.held {
		if r := s.redemptions[id]; !r.red.Deadline.After(now) {
			out = append(out, cloneRedemption(r.red))
		}
	}
	slices.SortFunc(out, func(a, b points.Redemption) int {
		if c := a.Deadline.Compare(b.Deadline); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Certificate implements points.Store.
func (s *PointsStore) Certificate(ctx context.Context, number string) (points.Certificate, error) {
	if err := ctx.Err(); err != nil {
		return points.Certificate{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.certs[number]
	if !ok {
		return points.Certificate{}, fmt.Errorf("memory: certificate %q: %w", number, points.ErrNotFound)
	}
	return cloneCertificate(c), nil
}

// Certificates implements points.Store.
func (s *PointsStore) Certificates(ctx context.Context, v org.VolunteerID) ([]points.Certificate, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []points.Certificate
	for _, c := range s.certs {
		if v == "" || c.Volunteer == v {
			out = append(out, cloneCertificate(c))
		}
	}
	slices.SortFunc(out, func(a, b points.Certificate) int {
		if a.Number < b.Number {
			return -1
		}
		if a.Number > b.Number {
			return 1
		}
		return 0
	})
	return out, nil
}

// NextNumber implements points.Store.
func (s *PointsStore) NextNumber(ctx context.Context, series string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seqs[series]++
	return s.seqs[series], nil
}

// PendingOps implements points.Store.
func (s *PointsStore) PendingOps(ctx context.Context, limit int) ([]points.Op, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if limit <= 0 || s.opLive == 0 {
		return nil, nil
	}
	out := make([]points.Op, 0, min(limit, s.opLive))
	for i := s.opFirst; i >= 0 && len(out) < limit; i = s.opLog[i].next {
		out = append(out, s.opLog[i].op)
	}
	return out, nil
}

// FirstPendingOp implements points.FirstPendingStore.
func (s *PointsStore) FirstPendingOp(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opFirst < 0 {
		return "", nil
	}
	return s.opLog[s.opFirst].op.ID, nil
}

// AckOps implements points.Store.
func (s *PointsStore) AckOps(ctx context.Context, ids []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		seq, ok := s.opIDs[id]
		if !ok {
			if kind, rid, isRed := redOp(id); isRed {
				if row := s.redemptions[rid]; row != nil && row.opSeq[kind] != 0 {
					seq, ok = row.opSeq[kind], true
				}
			} else if row := s.awards[id]; row != nil && row.opSeq != 0 {
				seq, ok = row.opSeq, true
			}
		}
		if ok {
			if i := s.opIndex(seq); i >= 0 {
				s.ackOp(i)
			}
		}
	}
	s.compactOps()
	return nil
}

// RecordRefusal implements points.Store.
func (s *PointsStore) RecordRefusal(ctx context.Context, r org.Refusal) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r.Seq = int64(len(s.refusals)) + 1
	s.refusals = append(s.refusals, r)
	return r.Seq, nil
}

// Refusals implements points.Store.
func (s *PointsStore) Refusals(ctx context.Context, after int64, limit int) ([]org.Refusal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if after < 0 {
		after = 0
	}
	if after >= int64(len(s.refusals)) {
		return nil, nil
	}
	end := min(int(after)+limit, len(s.refusals))
	return slices.Clone(s.refusals[after:end]), nil
}
