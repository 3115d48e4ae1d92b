package ledger

import (
	"reflect"
	"testing"
	"time"
)

// fill sets every field of the struct v points to to a non-zero value, so
// that a copy that forgets a field shows.
func fill(t *testing.T, v reflect.Value, seed int) {
	t.Helper()
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.UnixMicro(int64(1_700_000_000_000_000 + seed)).UTC()))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			fill(t, v.Field(i), seed+i)
		}
	case reflect.String:
		v.SetString("s" + string(rune('a'+seed%26)))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(seed + 1))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(seed + 1))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			fill(t, v.Index(i), seed+i)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(t, s.Index(0), seed)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(t, k, seed)
		fill(t, e, seed+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	default:
		t.Fatalf("fill: unhandled kind %s", v.Kind())
	}
}

// The field-by-field copies of the hot path must cover every field.
func TestFieldwiseCopies(t *testing.T) {
	var c Command
	fill(t, reflect.ValueOf(&c).Elem(), 1)
	var rec TransferRecord
	fill(t, reflect.ValueOf(&rec).Elem(), 7) // stale content to overwrite
	newRecord(&rec, &c)
	if want := (TransferRecord{Command: c}); !reflect.DeepEqual(rec, want) {
		t.Fatalf("newRecord:\n got %+v\nwant %+v", rec, want)
	}
	clearCommand(&c)
	if !reflect.DeepEqual(c, Command{}) {
		t.Fatalf("clearCommand left %+v", c)
	}
	if n := reflect.TypeOf(Result{}).NumField(); n != 4 {
		t.Fatalf("Result has %d fields; applyOne sets 4 one by one", n)
	}
}
