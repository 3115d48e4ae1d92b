package memory

import (
	"cmp"
	"strings"
	"time"

	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
	"github.com/shopspring/decimal"
)

// pointsRecRow is a stored service record, compact: the strings a record
// keeps from its entry on share one string, and its times are plain
// numbers. A record as given holds some 27 pointers for the collector to
// follow on every cycle, the row 8; records are the bulk of the store.
// A record whose times are not plain UTC (a location other than UTC, a
// monotonic reading) is kept as given, in full.
type pointsRecRow struct {
	// fixed holds the fixed strings (see fixedStrings) one after the
	// other; ends[i] is where the i-th ends.
	fixed string
	ends  [nFixed]uint32
	// times: Activity.Start, Activity.End, SignIn, SignOut, RecordedAt,
	// ConfirmedAt.
	times [6]pointsTime

	entered, hours                  decimal.Decimal
	status                          points.RecordStatus
	correctedBy, confirmedBy, award string
	travel                          time.Duration
	version                         int64
	hardToStaff                     bool
	full                            *points.Record
	at                              pointsTime // At(), for ordering
	volunteer                       org.VolunteerID
}

// nFixed is the number of fixed strings.
const nFixed = 15

// fixedStrings returns pointers to the strings of r that do not change
// when it is confirmed or reversed, in the order of pointsRecRow.fixed.
func fixedStrings(r *points.Record) [nFixed]*string {
	return [nFixed]*string{&r.ID, (*string)(&r.Volunteer), &r.Activity.Name, &r.Activity.Category, &r.Activity.Place,
		&r.Activity.Content, (*string)(&r.Organiser), (*string)(&r.Team), &r.Training, &r.Honours, &r.Evaluation,
		&r.HoursNote, &r.SourceKey, &r.Corrects, &r.RecordedBy}
}

// pointsTime is a time.Time as Unix seconds and nanoseconds; set is false
// for the zero time.
type pointsTime struct {
	sec  int64
	nsec int32
	set  bool
}

// plainTime returns t as a pointsTime, or false when t would not come back
// identical (a location other than UTC, a monotonic reading).
func plainTime(t time.Time) (pointsTime, bool) {
	if t == (time.Time{}) {
		return pointsTime{}, true
	}
	p := pointsTime{sec: t.Unix(), nsec: int32(t.Nanosecond()), set: true}
	return p, p.time() == t
}

func (p pointsTime) time() time.Time {
	if !p.set {
		return time.Time{}
	}
	return time.Unix(p.sec, int64(p.nsec)).UTC()
}

func (p pointsTime) compare(q pointsTime) int {
	if c := cmp.Compare(p.sec, q.sec); c != 0 {
		return c
	}
	return cmp.Compare(p.nsec, q.nsec)
}

// set stores r in row. The fixed strings are concatenated again only when
// one of them changed (a confirmation passes them back as they were read,
// sharing the row's memory).
func (row *pointsRecRow) set(r *points.Record) {
	ts := [6]time.Time{r.Activity.Start, r.Activity.End, r.SignIn, r.SignOut, r.RecordedAt, r.ConfirmedAt}
	var times [6]pointsTime
	plain := true
	for i, t := range ts {
		var ok bool
		if times[i], ok = plainTime(t); !ok {
			plain = false
		}
	}
	at, _ := plainTime(r.At())
	if !plain {
		full := *r
		*row = pointsRecRow{full: &full, at: at, volunteer: r.Volunteer}
		return
	}
	strs := fixedStrings(r)
	same := row.full == nil && row.fixed != ""
	for i := 0; same && i < nFixed; i++ {
		same = *strs[i] == row.str(i)
	}
	if !same {
		var b strings.Builder
		n := 0
		for _, p := range strs {
			n += len(*p)
		}
		b.Grow(n)
		for i, p := range strs {
			b.WriteString(*p)
			row.ends[i] = uint32(b.Len())
		}
		row.fixed = b.String()
	}
	row.times = times
	row.entered, row.hours = r.EnteredHours, r.Hours
	row.status, row.correctedBy, row.confirmedBy, row.award = r.Status, r.CorrectedBy, r.ConfirmedBy, r.Award
	row.travel, row.version, row.hardToStaff = r.Travel, r.Version, r.Activity.HardToStaff
	row.full, row.at, row.volunteer = nil, at, r.Volunteer
}

// str returns the i-th fixed string.
func (row *pointsRecRow) str(i int) string {
	start := uint32(0)
	if i > 0 {
		start = row.ends[i-1]
	}
	return row.fixed[start:row.ends[i]]
}

// record returns the stored record.
func (row *pointsRecRow) record() points.Record {
	if row.full != nil {
		return *row.full
	}
	var r points.Record
	for i, p := range fixedStrings(&r) {
		*p = row.str(i)
	}
	r.Activity.Start, r.Activity.End = row.times[0].time(), row.times[1].time()
	r.SignIn, r.SignOut = row.times[2].time(), row.times[3].time()
	r.RecordedAt, r.ConfirmedAt = row.times[4].time(), row.times[5].time()
	r.EnteredHours, r.Hours = row.entered, row.hours
	r.Status, r.CorrectedBy, r.ConfirmedBy, r.Award = row.status, row.correctedBy, row.confirmedBy, row.award
	r.Travel, r.Version, r.Activity.HardToStaff = row.travel, row.version, row.hardToStaff
	return r
}

// recVersion returns the stored record's Version.
func (row *pointsRecRow) recVersion() int64 {
	if row.full != nil {
		return row.full.Version
	}
	return row.version
}

// cmpRecordRow orders rows by (At(), ID).
func cmpRecordRow(a, b *pointsRecRow) int {
	if c := a.at.compare(b.at); c != 0 {
		return c
	}
	return cmp.Compare(a.id(), b.id())
}

func (row *pointsRecRow) id() string {
	if row.full != nil {
		return row.full.ID
	}
	return row.str(0)
}
