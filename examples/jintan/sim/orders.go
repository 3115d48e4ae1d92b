package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
)

// The order side of a day: 点单, 派单/抢单, 接单/退单, service, 评单, 晒单.

// leader returns the actor leading team t.
func (w *world) leader(t org.TeamID) org.Actor {
	return org.Actor{ID: string(w.leaders[t]), Role: org.RoleTeamLeader, Team: t}
}

// fire applies a command and caches the order it returns.
func (w *world) fire(ctx context.Context, a org.Actor, c dispatch.Command) (dispatch.Order, error) {
	o, err := w.dsp.Fire(ctx, a, c)
	if err != nil {
		return o, err
	}
	w.orders[o.ID] = o
	return o, nil
}

// each calls f for every open order in state s, oldest first, then drops
// the orders that no longer need a decision.
func (w *world) each(ctx context.Context, s dispatch.State, f func(o dispatch.Order) error) error {
	for _, id := range w.open {
		if o := w.orders[id]; o.State == s {
			if err := f(o); err != nil {
				return fmt.Errorf("sim: order %s (%s): %w", id, s, err)
			}
		}
	}
	w.prune()
	return nil
}

// refresh re-reads the given open orders after the sweep changed them.
func (w *world) refresh(ctx context.Context, ids []dispatch.OrderID) error {
	got := make([]dispatch.Order, len(ids))
	if err := w.pool(ctx, len(ids), func(ctx context.Context, _ *lane, i int) error {
		var err error
		got[i], err = w.dsp.Order(ctx, ids[i])
		return err
	}); err != nil {
		return err
	}
	for _, o := range got {
		w.orders[o.ID] = o
	}
	w.prune()
	return nil
}

// prune forgets the orders that need no more decisions.
func (w *world) prune() {
	w.open = slices.DeleteFunc(w.open, func(id dispatch.OrderID) bool {
		if needsDecision(w.orders[id].State) {
			return false
		}
		delete(w.orders, id)
		return true
	})
}

// inState returns the open orders in state s for which want returns true,
// oldest first.
func (w *world) inState(s dispatch.State, want func(o dispatch.Order) bool) []dispatch.Order {
	var out []dispatch.Order
	for _, id := range w.open {
		if o := w.orders[id]; o.State == s && want(o) {
			out = append(out, o)
		}
	}
	return out
}

// fireEach runs f for each order in parallel (see lane): f fires what was
// decided for the order and returns the order it leaves, or a zero Order
// when it fired nothing. fireEach caches the orders f returns and returns
// them in the order of os. The fs must not interfere: no f assigns a team
// (capacity is first come, first served) or touches another order.
func (w *world) fireEach(ctx context.Context, os []dispatch.Order, f func(context.Context, *lane, dispatch.Order) (dispatch.Order, error)) ([]dispatch.Order, error) {
	out := make([]dispatch.Order, len(os))
	jobs := make([]func(context.Context, *lane) error, len(os))
	for i, o := range os {
		jobs[i] = func(ctx context.Context, l *lane) error {
			r, err := f(ctx, l, o)
			if err != nil {
				return fmt.Errorf("sim: order %s (%s): %w", o.ID, o.State, err)
			}
			out[i] = r
			return nil
		}
	}
	err := w.parallel(ctx, jobs)
	for _, r := range out {
		if r.ID != "" {
			w.orders[r.ID] = r
		}
	}
	return out, err
}

// place lets residents order n services between 18:00 and 20:00.
func (w *world) place(ctx context.Context, today time.Time, n int) error {
	type placing struct {
		at  time.Time
		req dispatch.OrderRequest
		res string
	}
	// Decide every order first, in sequence (the draws come from one
	// generator), then place them in parallel, each at its own minute on
	// its lane's clock. The lanes take them in time order, so no lane's
	// clock goes back.
	todo := make([]placing, n)
	for i := range n {
		at := today.Add(18*time.Hour + time.Duration(i)*2*time.Hour/time.Duration(n))
		x := w.rng.Float64() * w.weights[len(w.weights)-1]
		st := w.stations[min(len(w.stations)-1, sortSearch(w.weights, x))]
		item := w.chooseItem(st)
		w.nextID++
		id := dispatch.OrderID(fmt.Sprintf("O%s-%05d", w.start.Format("20060102"), w.nextID))
		res := fmt.Sprintf("R%s-%03d", st, w.rng.IntN(300))
		fields := map[string]string{
			"date":   today.AddDate(0, 0, 1+w.rng.IntN(3)).Format("2006-01-02"),
			"people": fmt.Sprint(5 + w.rng.IntN(76)),
		}
		if w.rng.IntN(3) == 0 {
			fields["note"] = "请提前电话联系"
		}
		todo[i] = placing{at: at, res: res, req: dispatch.OrderRequest{ID: id, Item: item, Node: st, Fields: fields}}
	}
	placed := make([]dispatch.Order, n)
	jobs := make([]func(context.Context, *lane) error, n)
	for i, p := range todo {
		jobs[i] = func(ctx context.Context, l *lane) error {
			l.clk.set(p.at)
			o, err := l.dsp.PlaceOrder(ctx, resident(p.res), p.req)
			if err != nil {
				return fmt.Errorf("sim: place order %s: %w", p.req.ID, err)
			}
			placed[i] = o
			return w.org.AddCounters(ctx, "sim:order:"+string(p.req.ID), p.req.Node, org.Counters{Orders: 1})
		}
	}
	err := w.parallel(ctx, jobs)
	for _, o := range placed {
		if o.ID != "" {
			w.orders[o.ID] = o
			w.open = append(w.open, o.ID)
			w.t.placed++
		}
	}
	if n > 0 {
		w.at(todo[n-1].at)
	}
	return err
}

func sortSearch(cum []float64, x float64) int {
	i, _ := slices.BinarySearch(cum, x)
	return i
}

// chooseItem draws a menu item the station's residents may order.
func (w *world) chooseItem(st org.NodeID) dispatch.ItemCode {
	var total float64
	ok := func(m menuItem) bool { return m.offeror == centre || w.instOf[st] == m.offeror }
	for _, m := range menuItems {
		if ok(m) {
			total += m.weight
		}
	}
	x := w.rng.Float64() * total
	for _, m := range menuItems {
		if ok(m) {
			if x -= m.weight; x < 0 {
				return m.code
			}
		}
	}
	return menuItems[0].code
}

// route is the desk's evening round (20:00): new orders are rejected,
// published to the pool or dispatched; returned ones dispatched again or
// forced on a team; stale dispatches reassigned.
func (w *world) route(ctx context.Context) error {
	// Rejecting and publishing assign no team: in parallel. Dispatching
	// does (first come, first served): in order, after them.
	decided := w.inState(dispatch.Ordered, func(o dispatch.Order) bool { return chance(w.seed, "route", o.ID) < 0.12 })
	if _, err := w.fireEach(ctx, decided, func(ctx context.Context, _ *lane, o dispatch.Order) (dispatch.Order, error) {
		if chance(w.seed, "route", o.ID) < 0.02 {
			return w.dsp.Fire(ctx, director, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerReject, Reason: "服务内容超出实践中心职责范围"})
		}
		return w.dsp.Fire(ctx, desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerPublish})
	}); err != nil {
		return err
	}
	for _, o := range decided {
		if chance(w.seed, "route", o.ID) < 0.02 {
			w.t.rejected++
		} else {
			w.t.published++
		}
	}
	w.prune()
	if err := w.each(ctx, dispatch.Ordered, func(o dispatch.Order) error {
		return w.dispatch(ctx, o)
	}); err != nil {
		return err
	}
	if err := w.each(ctx, dispatch.Returned, func(o dispatch.Order) error {
		if o.Returns >= 2 && len(o.ReturnedBy) > 0 {
			_, err := w.fire(ctx, director, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerForceAssign, Team: o.ReturnedBy[0], Reason: "两次退单，由中心指定责任队伍"})
			if errors.Is(err, dispatch.ErrCapacity) {
				return w.publish(ctx, o)
			}
			w.t.forced++
			return err
		}
		return w.dispatch(ctx, o)
	}); err != nil {
		return err
	}
	return w.each(ctx, dispatch.Dispatched, func(o dispatch.Order) error {
		if !o.UpdatedAt.Before(w.now().Add(-12*time.Hour)) || chance(w.seed, "reassign", o.ID, o.Version) >= 0.3 {
			return nil
		}
		cands, err := w.dsp.Explain(ctx, o.ID)
		if err != nil {
			return err
		}
		for _, c := range cands {
			if c.Kept && c.Team != o.Team {
				_, err := w.fire(ctx, desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerReassign, Team: c.Team})
				if errors.Is(err, dispatch.ErrCapacity) {
					return nil
				}
				w.t.reassigned++
				return err
			}
		}
		return nil
	})
}

func (w *world) publish(ctx context.Context, o dispatch.Order) error {
	_, err := w.fire(ctx, desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerPublish})
	w.t.published++
	return err
}

func (w *world) dispatch(ctx context.Context, o dispatch.Order) error {
	_, err := w.fire(ctx, desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerDispatch})
	if errors.Is(err, dispatch.ErrNoCandidate) {
		return w.publish(ctx, o)
	}
	w.t.dispatched++
	return err
}

// respond is the teams' morning round (09:00): accept or return what was
// dispatched (or let the deadline pass), claim from the pool; residents
// and the centre cancel a few orders.
func (w *world) respond(ctx context.Context) error {
	var cancels []dispatch.Order
	for _, st := range []dispatch.State{dispatch.Ordered, dispatch.Published, dispatch.Dispatched, dispatch.Returned} {
		cancels = append(cancels, w.inState(st, func(o dispatch.Order) bool { return chance(w.seed, "rcancel", o.ID) < 0.015 })...)
	}
	if _, err := w.fireEach(ctx, cancels, func(ctx context.Context, _ *lane, o dispatch.Order) (dispatch.Order, error) {
		return w.dsp.Fire(ctx, resident(o.Resident), dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerCancel, Reason: "已自行解决"})
	}); err != nil {
		return err
	}
	w.t.cancelledRes += len(cancels)
	w.prune()

	// Accepting and returning assign no team: the teams answer in parallel.
	answer := w.inState(dispatch.Dispatched, func(o dispatch.Order) bool { return chance(w.seed, "respond", o.ID, o.Version) < 0.91 })
	answered, err := w.fireEach(ctx, answer, func(ctx context.Context, _ *lane, o dispatch.Order) (dispatch.Order, error) {
		lead := w.leader(o.Team)
		if chance(w.seed, "respond", o.ID, o.Version) < 0.84 {
			return w.dsp.Fire(ctx, lead, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerAccept})
		}
		r, err := w.dsp.Fire(ctx, lead, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerReturn, Reason: "当天队员不足，无法按时服务"})
		if errors.Is(err, dispatch.ErrReturnLimit) {
			return w.dsp.Fire(ctx, lead, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerAccept})
		}
		return r, err
	})
	if err != nil {
		return err
	}
	for _, o := range answered {
		if o.State == dispatch.Returned {
			w.t.returnedByTeam++
		} else {
			w.t.accepted++
		}
	}
	w.prune()
	// The rest get no answer: the sweep returns them when accept-by passes.

	// Claims assign a team: first come, first served, in order.
	if err := w.each(ctx, dispatch.Published, func(o dispatch.Order) error {
		if w.now().Sub(o.UpdatedAt) > 60*time.Hour {
			_, err := w.fire(ctx, director, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerCancel, Reason: "三天无队伍认领，中心撤单并电话回访"})
			w.t.cancelledCentre++
			return err
		}
		if chance(w.seed, "claim", o.ID, o.Version, w.now().Unix()) >= 0.7 {
			return nil
		}
		return w.claim(ctx, o)
	}); err != nil {
		return err
	}
	return w.each(ctx, dispatch.Accepted, func(o dispatch.Order) error {
		if chance(w.seed, "acancel", o.ID) >= 0.004 {
			return nil
		}
		_, err := w.fire(ctx, director, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerCancel, Reason: "场地临时不可用，中心取消"})
		w.t.cancelledCentre++
		return err
	})
}

func (w *world) accept(ctx context.Context, lead org.Actor, o dispatch.Order) error {
	_, err := w.fire(ctx, lead, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerAccept})
	w.t.accepted++
	return err
}

// claim lets the first team with room take a published order (抢单).
func (w *world) claim(ctx context.Context, o dispatch.Order) error {
	teams, err := w.org.TeamsServing(ctx, o.Node, o.Item.Category)
	if err != nil || len(teams) == 0 {
		return err
	}
	first := pick(len(teams), w.seed, "claimer", o.ID, o.Version)
	for k := range teams {
		t := teams[(first+k)%len(teams)]
		_, err := w.fire(ctx, w.leader(t.ID), dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerClaim})
		if errors.Is(err, dispatch.ErrCapacity) {
			continue
		}
		if err == nil {
			w.t.claimed++
		}
		return err
	}
	return nil
}

// The two service slots of a day.
var slots = [2]struct{ start, end time.Duration }{
	{8 * time.Hour, 11*time.Hour + 30*time.Minute},
	{13*time.Hour + 30*time.Minute, 17 * time.Hour},
}

// planned returns when an accepted order's service starts: within two days
// of acceptance, a few four days later (late: urged, or extended).
func (w *world) planned(o dispatch.Order) (time.Time, bool) {
	acc := o.ServingSince.In(cst)
	base := day(acc)
	u := chance(w.seed, "plan", o.ID, acc.Unix())
	if u < 0.06 {
		return base.AddDate(0, 0, 4).Add(slots[0].start), true
	}
	k := pick(4, w.seed, "slot", o.ID, acc.Unix())
	if acc.Hour() >= 13 {
		k += 2
	} else {
		k++
	}
	return base.AddDate(0, 0, k/2).Add(slots[k%2].start), false
}

// startServices begins the services planned for this slot or earlier.
func (w *world) startServices(ctx context.Context) error {
	due := w.inState(dispatch.Accepted, func(o dispatch.Order) bool {
		at, _ := w.planned(o)
		return !at.After(w.now())
	})
	if _, err := w.fireEach(ctx, due, func(ctx context.Context, _ *lane, o dispatch.Order) (dispatch.Order, error) {
		return w.dsp.Fire(ctx, w.leader(o.Team), dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerStart})
	}); err != nil {
		return err
	}
	w.t.started += len(due)
	w.prune()
	return nil
}

// completeServices reports the services in progress done, with their participants
// and hours.
func (w *world) completeServices(ctx context.Context) error {
	// Who serves depends on who already serves elsewhere: choose the
	// participants in order, then report the completions in parallel.
	parts := map[dispatch.OrderID][]dispatch.Participant{}
	to := w.now()
	done := w.inState(dispatch.InService, func(o dispatch.Order) bool {
		ps := w.participants(o, o.ServingSince, to)
		if len(ps) == 0 {
			return false // nobody free: the team completes next slot
		}
		parts[o.ID] = ps
		for _, p := range ps {
			w.busy[p.Volunteer] = append(w.busy[p.Volunteer], span{o.ServingSince, to})
		}
		return true
	})
	completed, err := w.fireEach(ctx, done, func(ctx context.Context, _ *lane, o dispatch.Order) (dispatch.Order, error) {
		ps := parts[o.ID]
		d, err := w.dsp.Fire(ctx, w.leader(o.Team), dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerComplete, Completion: &dispatch.Completion{
			Report:       fmt.Sprintf("%s：%d名志愿者到场服务", o.Item.Name, len(ps)),
			Participants: ps,
			Photos:       []string{fmt.Sprintf("photos/%s/%d.jpg", o.ID, o.Version)},
		}})
		if err != nil {
			return d, err
		}
		c := org.Counters{Activities: 1}
		if o.CompletedAt.IsZero() {
			c.Completed = 1
		}
		return d, w.org.AddCounters(ctx, fmt.Sprintf("sim:activity:%s:%d", o.ID, d.Version), o.Node, c)
	})
	if err != nil {
		return err
	}
	for _, d := range completed {
		ps := parts[d.ID]
		w.t.completed++
		w.t.participants += len(ps)
		for _, p := range ps {
			w.t.hours = w.t.hours.Add(p.Hours)
			if chance(w.seed, "object", d.ID, d.Version, p.Volunteer) < 0.012 {
				w.pending = append(w.pending, pendingObjection{
					key: dispatch.RecordKey(d.ID, d.Version, p.Volunteer), volunteer: p.Volunteer,
					due: day(to).AddDate(0, 0, 1).Add(15 * time.Hour),
				})
			}
		}
		// Penalties write to wallets other completions may share: in order.
		if err := w.noShow(ctx, d, ps); err != nil {
			return fmt.Errorf("sim: order %s (%s): %w", d.ID, dispatch.InService, err)
		}
	}
	w.prune()
	return nil
}

// participants picks two to nine members of the order's team who are free
// over [from, to], each serving 1.5 to 3.5 hours (at most the span).
func (w *world) participants(o dispatch.Order, from, to time.Time) []dispatch.Participant {
	// The leader serves too when his members cannot.
	ms := append(slices.Clone(w.members[o.Team]), org.VolunteerID(w.leader(o.Team).ID))
	want := 2 + pick(8, w.seed, "crew", o.ID, o.Version)
	limit := decimal.NewFromInt(int64(to.Sub(from) / (30 * time.Minute))).Div(decimal.NewFromInt(2))
	var out []dispatch.Participant
	first := pick(len(ms), w.seed, "who", o.ID, o.Version)
	for k := 0; k < len(ms) && len(out) < want; k++ {
		v := ms[(first+k)%len(ms)]
		if w.isBusy(v, from, to) {
			continue
		}
		h := decimal.NewFromInt(int64(3 + pick(5, w.seed, "hours", o.ID, o.Version, v))).Div(decimal.NewFromInt(2))
		if h.GreaterThan(limit) {
			h = limit
		}
		if h.Sign() > 0 {
			out = append(out, dispatch.Participant{Volunteer: v, Hours: h})
		}
	}
	return out
}

func (w *world) isBusy(v org.VolunteerID, from, to time.Time) bool {
	for _, s := range w.busy[v] {
		if s.from.Before(to) && from.Before(s.to) {
			return true
		}
	}
	return false
}

// evaluate lets residents score completed services (评单); the desk reopens
// the bad ones and showcases the best (晒单).
func (w *world) evaluate(ctx context.Context) error {
	due := w.inState(dispatch.Completed, func(o dispatch.Order) bool {
		u := chance(w.seed, "eval", o.ID, o.Version)
		if u >= 0.82 {
			return false // never evaluated: the sweep closes it unrated
		}
		return !day(o.UpdatedAt).AddDate(0, 0, int(u/0.82*4)).After(w.now())
	})
	// Residents evaluate and the desk showcases in parallel; reopening
	// assigns a team, so it follows in order.
	done, err := w.fireEach(ctx, due, func(ctx context.Context, _ *lane, o dispatch.Order) (dispatch.Order, error) {
		score := 5
		switch s := chance(w.seed, "score", o.ID, o.Version); {
		case s < 0.03:
			score = 1
		case s < 0.06:
			score = 2
		case s < 0.10:
			score = 3
		case s < 0.32:
			score = 4
		}
		ev := &dispatch.Evaluation{Score: score, Comment: comments[score], Consent: chance(w.seed, "consent", o.ID, o.Version) < 0.7}
		e, err := w.dsp.Fire(ctx, resident(o.Resident), dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerEvaluate, Evaluation: ev})
		if err != nil || score < 5 || !ev.Consent || chance(w.seed, "show", e.ID, e.Version) >= 0.5 {
			return e, err
		}
		return w.dsp.Fire(ctx, desk, dispatch.Command{Order: e.ID, Trigger: dispatch.TriggerShowcase})
	})
	if err != nil {
		return err
	}
	w.t.evaluated += len(done)
	for _, e := range done {
		switch {
		case e.State == dispatch.Showcased:
			w.t.showcased++
			if chance(w.seed, "hide", e.ID, e.Version) < 0.05 {
				w.toHide = append(w.toHide, e.ID)
			}
		case e.Evaluation.Score <= 2 && chance(w.seed, "reopen", e.ID, e.Version) < 0.6:
			if err := w.reopen(ctx, e); err != nil {
				return fmt.Errorf("sim: order %s (%s): %w", e.ID, dispatch.Completed, err)
			}
		}
	}
	w.prune()
	return nil
}

// reopen sends an unsatisfying service back to its team, or to another
// team when the first is at capacity.
func (w *world) reopen(ctx context.Context, o dispatch.Order) error {
	_, err := w.fire(ctx, desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerReopen, Reason: "群众不满意，原队伍返工"})
	if errors.Is(err, dispatch.ErrCapacity) {
		cands, cerr := w.dsp.Explain(ctx, o.ID)
		if cerr != nil {
			return cerr
		}
		if len(cands) == 0 || !cands[0].Kept {
			return nil // no team has room: the desk lets the evaluation stand
		}
		_, err = w.fire(ctx, desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerReopen, Team: cands[0].Team, Reason: "群众不满意，改派其他队伍返工"})
	}
	if err == nil {
		w.t.reopened++
	}
	return err
}

var comments = map[int]string{
	1: "没有按约定时间上门", 2: "服务内容与预约不符", 3: "一般",
	4: "服务认真，感谢志愿者", 5: "非常满意，点赞！",
}

// evening asks and approves extensions for late services (延期) and hides
// the showcased orders withdrawn at the resident's request.
func (w *world) evening(ctx context.Context) error {
	if err := w.each(ctx, dispatch.Accepted, func(o dispatch.Order) error {
		if _, late := w.planned(o); !late || o.Pending != nil || o.CompleteBy.IsZero() ||
			!day(o.ServingSince).AddDate(0, 0, 1).Equal(day(w.now())) || chance(w.seed, "extend", o.ID) >= 0.5 {
			return nil
		}
		if _, err := w.fire(ctx, w.leader(o.Team), dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerRequestExtension,
			Until: o.CompleteBy.Add(48 * time.Hour), Reason: "所需专业志愿者周末才能到位"}); err != nil {
			return err
		}
		w.t.extensions++
		_, err := w.fire(ctx, desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerApprove})
		return err
	}); err != nil {
		return err
	}
	for _, id := range w.toHide {
		if _, err := w.fire(ctx, director, dispatch.Command{Order: id, Trigger: dispatch.TriggerHide, Reason: "应群众要求撤下照片"}); err != nil {
			return fmt.Errorf("sim: hide %s: %w", id, err)
		}
		w.t.hidden++
	}
	w.toHide = w.toHide[:0]
	return nil
}
