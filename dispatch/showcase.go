package dispatch

import (
	"context"
	"fmt"
	"time"

	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
)

// ShowcaseEntry is one order in the public showcase feed (晒单).
type ShowcaseEntry struct {
	Order OrderID
	// Service is the menu item's name and Item its code.
	Service string
	Item    ItemCode
	// Station is the node where the service took place.
	Station org.NodeID
	Team    org.TeamID
	Score   int
	Comment string
	Report  string
	Photos  []string
	At      time.Time
}

// FeedPage is one page of the showcase feed, newest first.
type FeedPage struct {
	Entries []ShowcaseEntry
	// Next is the cursor of the following page; zero on the last page.
	Next FeedCursor
}

// Feed returns a page of showcased orders, newest first, starting after the
// cursor (zero: the newest). Hidden orders are not in the feed. limit is
// 1..1000; 0 means 100.
func (s *Service) Feed(ctx context.Context, after FeedCursor, limit int) (FeedPage, error) {
	limit = pageLimit(limit)
	orders, err := s.store.Showcase(ctx, after, limit+1)
	if err != nil {
		return FeedPage{}, fmt.Errorf("dispatch: feed: %w", err)
	}
	page := FeedPage{Entries: make([]ShowcaseEntry, 0, min(limit, len(orders)))}
	for i, o := range orders {
		if i == limit {
			last := orders[i-1]
			page.Next = FeedCursor{At: last.ShowcasedAt, ID: last.ID}
			break
		}
		e := ShowcaseEntry{Order: o.ID, Service: o.Item.Name, Item: o.Item.Code, Station: o.Node, Team: o.Team, At: o.ShowcasedAt}
		if o.Evaluation != nil {
			e.Score, e.Comment = o.Evaluation.Score, o.Evaluation.Comment
		}
		if o.Completion != nil {
			e.Report, e.Photos = o.Completion.Report, o.Completion.Photos
		}
		page.Entries = append(page.Entries, e)
	}
	return page, nil
}

// SatisfiedScore is the lowest evaluation score that counts as satisfied
// (满意): it enters the satisfaction rate, and an order scored at least this
// is not reopened.
const SatisfiedScore = 4

// NodeStats are the figures of the orders placed at a node's subtree in a
// time window.
type NodeStats struct {
	Node org.NodeID
	// Orders counts orders placed (OrderedAt in the window) at the node or
	// below it.
	Orders int
	// Routed counts those ever dispatched to a team or published to the
	// pool.
	Routed int
	// Responded counts those a team accepted or claimed at least once
	// (forced assignments do not count).
	Responded int
	// Completed counts those completed at least once.
	Completed int
	// Evaluated counts those carrying a resident's evaluation now.
	Evaluated int
	// Satisfied counts evaluations scoring SatisfiedScore or more.
	Satisfied int
	// MeanAcceptance is the mean time from ordering to first acceptance
	// over the Responded orders; zero if none.
	MeanAcceptance time.Duration
	// MeanCompletion is the mean time from ordering to first completion
	// over the Completed orders; zero if none.
	MeanCompletion time.Duration
	// ResponseRate (响应率) is Responded / Routed, rounded to 4 decimals;
	// zero if nothing was routed.
	ResponseRate decimal.Decimal
	// SatisfactionRate (满意率) is Satisfied / Evaluated, rounded to 4
	// decimals; zero if nothing was evaluated.
	SatisfactionRate decimal.Decimal
}

// Stats computes NodeStats for the orders placed at node or below it with
// OrderedAt in [from, to); a zero to means no upper bound. Errors:
// ErrNotFound if node is unknown.
func (s *Service) Stats(ctx context.Context, node org.NodeID, from, to time.Time) (NodeStats, error) {
	if _, err := s.dir.Node(ctx, node); err != nil {
		return NodeStats{}, fmt.Errorf("dispatch: stats: field node: %w", mapOrgErr(err))
	}
	st := NodeStats{Node: node}
	within := map[org.NodeID]bool{}
	var accept, complete time.Duration
	var after OrderID
	for {
		orders, err := s.store.Orders(ctx, after, 1000)
		if err != nil {
			return NodeStats{}, fmt.Errorf("dispatch: stats: %w", err)
		}
		if len(orders) == 0 {
			break
		}
		after = orders[len(orders)-1].ID
		for _, o := range orders {
			if o.OrderedAt.Before(from) || (!to.IsZero() && !o.OrderedAt.Before(to)) {
				continue
			}
			in, ok := within[o.Node]
			if !ok {
				in, err = s.dir.Within(ctx, node, o.Node)
				if err != nil {
					return NodeStats{}, fmt.Errorf("dispatch: stats: order %q: %w", o.ID, mapOrgErr(err))
				}
				within[o.Node] = in
			}
			if !in {
				continue
			}
			st.Orders++
			if !o.RoutedAt.IsZero() {
				st.Routed++
			}
			if !o.AcceptedAt.IsZero() {
				st.Responded++
				accept += o.AcceptedAt.Sub(o.OrderedAt)
			}
			if !o.CompletedAt.IsZero() {
				st.Completed++
				complete += o.CompletedAt.Sub(o.OrderedAt)
			}
			if o.Evaluation != nil {
				st.Evaluated++
				if o.Evaluation.Score >= SatisfiedScore {
					st.Satisfied++
				}
			}
		}
	}
	if st.Responded > 0 {
		st.MeanAcceptance = accept / time.Duration(st.Responded)
	}
	if st.Completed > 0 {
		st.MeanCompletion = complete / time.Duration(st.Completed)
	}
	st.ResponseRate = ratio(st.Responded, st.Routed)
	st.SatisfactionRate = ratio(st.Satisfied, st.Evaluated)
	return st, nil
}

func ratio(n, d int) decimal.Decimal {
	if d == 0 {
		return decimal.Zero
	}
	return decimal.NewFromInt(int64(n)).DivRound(decimal.NewFromInt(int64(d)), 4)
}
