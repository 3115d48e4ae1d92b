package memory_test

import (
	"context"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/internal/cputime"
	"github.com/civicloop/civicloop/org"
)

// National scale, as DESIGN.md plans for.
const (
	natCentres    = 3_000
	natInstitutes = 40_000
	natStations   = 600_000
	natTeams      = 30_000
	natNodes      = natCentres + natInstitutes + natStations
)

var natSkills = []string{"theory", "culture", "tutoring", "health", "science", "legal", "environment", "relief",
	"civility", "agriculture", "safety", "media", "tax", "care", "traffic", "elderly", "children", "disability", "housing", "sport"}

// nationalNetwork describes the national tree: institutes spread evenly over
// centres, stations over institutes; per centre one corps and eight
// detachments at the centre, and a specialty team at each of the first
// institutes until 30,000 teams.
func nationalNetwork() org.Network {
	net := org.Network{Nodes: make([]org.NodeSpec, 0, natNodes), Teams: make([]org.TeamSpec, 0, natTeams)}
	centre := func(c int) org.NodeID { return org.NodeID("c" + strconv.Itoa(c)) }
	inst := func(i int) org.NodeID { return org.NodeID("i" + strconv.Itoa(i)) }
	for c := range natCentres {
		net.Nodes = append(net.Nodes, org.NodeSpec{ID: centre(c), Kind: org.Centre, Name: "区新时代文明实践中心" + strconv.Itoa(c)})
	}
	for i := range natInstitutes {
		net.Nodes = append(net.Nodes, org.NodeSpec{ID: inst(i), Kind: org.Institute, Name: "镇实践所" + strconv.Itoa(i), Parent: centre(i % natCentres)})
	}
	for s := range natStations {
		net.Nodes = append(net.Nodes, org.NodeSpec{ID: org.NodeID("s" + strconv.Itoa(s)), Kind: org.Station, Name: "村实践站" + strconv.Itoa(s), Parent: inst(s % natInstitutes)})
	}
	skills := func(k int) []string {
		return []string{natSkills[k%len(natSkills)], natSkills[(k+7)%len(natSkills)], natSkills[(k+13)%len(natSkills)]}
	}
	for c := 0; c < natCentres && len(net.Teams) < natTeams; c++ {
		corps := org.TeamID("corps" + strconv.Itoa(c))
		net.Teams = append(net.Teams, org.TeamSpec{ID: corps, Name: "志愿服务总队", Tier: org.Corps, Anchor: centre(c), Skills: skills(c), Capacity: 50})
		for d := range 8 {
			net.Teams = append(net.Teams, org.TeamSpec{ID: org.TeamID("d" + strconv.Itoa(c*8+d)), Name: "常备支队", Tier: org.Detachment,
				Parent: corps, Anchor: centre(c), Skills: skills(c + d), Capacity: 20})
		}
	}
	for i := 0; len(net.Teams) < natTeams; i++ {
		c := i % natCentres
		net.Teams = append(net.Teams, org.TeamSpec{ID: org.TeamID("t" + strconv.Itoa(i)), Name: "特色志愿服务队", Tier: org.Specialty,
			Parent: org.TeamID("corps" + strconv.Itoa(c)), Anchor: inst(i), Skills: skills(i), Capacity: 5})
	}
	return net
}

var benchActor = org.Actor{ID: "bench", Role: org.RoleSystem}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkOrgBuild imports the whole national tree (643,000 nodes and
// 30,000 teams) through Service.Import, one BulkStore.Load. bytes/node is
// the memory the store retains afterwards (teams included) per node: its
// heap, and its node index when that lives in a mapping of its own.
func BenchmarkOrgBuild(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	var retained uint64
	for b.Loop() {
		b.StopTimer()
		before := heapInUse()
		net := nationalNetwork()
		b.StartTimer()
		store := memory.NewOrgStore()
		svc, err := org.New(store, nil)
		if err != nil {
			b.Fatal(err)
		}
		res, err := svc.Import(ctx, benchActor, net)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if res.Nodes != natNodes || res.Teams != natTeams {
			b.Fatalf("imported %+v", res)
		}
		net = org.Network{}
		retained = heapInUse() - before + uint64(memory.OrgIndexMappedBytes(store))
		runtime.KeepAlive(store)
		b.StartTimer()
	}
	b.ReportMetric(float64(retained)/natNodes, "bytes/node")
}

type national struct {
	svc      *org.Service
	stations []org.NodeID
	all      []org.NodeID
}

var (
	natOnce sync.Once
	nat     national
)

// nationalService builds the national tree once per process for the lookup
// benchmarks, with counters added at every 100th station so roll-ups carry
// counters.
func nationalService(b *testing.B) national {
	natOnce.Do(func() {
		ctx := context.Background()
		svc, err := org.New(memory.NewOrgStore(), nil)
		if err != nil {
			panic(err)
		}
		net := nationalNetwork()
		if _, err := svc.Import(ctx, benchActor, net); err != nil {
			panic(err)
		}
		nat.svc = svc
		for _, n := range net.Nodes {
			nat.all = append(nat.all, n.ID)
			if n.Kind == org.Station {
				nat.stations = append(nat.stations, n.ID)
			}
		}
		for k := 0; k < len(nat.stations); k += 100 {
			if err := svc.AddCounters(ctx, "bench-"+strconv.Itoa(k), nat.stations[k], org.Counters{Orders: 1, Completed: 1}); err != nil {
				panic(err)
			}
		}
	})
	if nat.svc == nil {
		b.Fatal("national tree failed to build")
	}
	return nat
}

// BenchmarkWithin asks whether a random station lies within a random
// centre's or institute's subtree (the policy's scope check).
func BenchmarkWithin(b *testing.B) {
	n := nationalService(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	const m = 4096
	scopes, nodes := make([]org.NodeID, m), make([]org.NodeID, m)
	for k := range m {
		s := rng.IntN(len(n.stations))
		nodes[k] = n.stations[s]
		if k%2 == 0 {
			scopes[k] = org.NodeID("i" + strconv.Itoa(s%natInstitutes)) // a hit
		} else {
			scopes[k] = n.all[rng.IntN(natCentres+natInstitutes)]
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	k := 0
	for b.Loop() {
		if _, err := n.svc.Within(ctx, scopes[k%m], nodes[k%m]); err != nil {
			b.Fatal(err)
		}
		k++
	}
	reportCPU(b, cputime.Process()-cpu)
}

// BenchmarkRollup reads the roll-up of a random node of any tier.
func BenchmarkRollup(b *testing.B) {
	n := nationalService(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	const m = 4096
	ids := make([]org.NodeID, m)
	for k := range m {
		// One in four reads a centre or institute: the expensive end.
		if k%4 == 0 {
			ids[k] = n.all[rng.IntN(natCentres+natInstitutes)]
		} else {
			ids[k] = n.all[rng.IntN(len(n.all))]
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	k := 0
	for b.Loop() {
		if _, err := n.svc.Rollup(ctx, ids[k%m]); err != nil {
			b.Fatal(err)
		}
		k++
	}
	reportCPU(b, cputime.Process()-cpu)
}

// BenchmarkTeamsServing finds the teams serving a random station for a
// random skill (dispatch's routing query).
func BenchmarkTeamsServing(b *testing.B) {
	n := nationalService(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	const m = 4096
	nodes, skills := make([]org.NodeID, m), make([]string, m)
	for k := range m {
		nodes[k] = n.stations[rng.IntN(len(n.stations))]
		skills[k] = natSkills[rng.IntN(len(natSkills))]
	}
	found := 0
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	k := 0
	for b.Loop() {
		ts, err := n.svc.TeamsServing(ctx, nodes[k%m], skills[k%m])
		if err != nil {
			b.Fatal(err)
		}
		found += len(ts)
		k++
	}
	reportCPU(b, cputime.Process()-cpu)
	b.ReportMetric(float64(found)/float64(k), "teams/op")
}
