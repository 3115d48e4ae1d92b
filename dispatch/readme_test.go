package dispatch_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/stretchr/testify/require"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the diagram between the dispatch-diagram markers of ../README.md")

const (
	beginMarker = "<!-- dispatch-diagram:begin -->\n"
	endMarker   = "<!-- dispatch-diagram:end -->"
)

// TestREADMEDiagram checks that the Mermaid diagram in the README is the
// rendering of the transition table. Run with -update-readme to rewrite it.
func TestREADMEDiagram(t *testing.T) {
	const path = "../README.md"
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	text := string(raw)
	begin := strings.Index(text, beginMarker)
	end := strings.Index(text, endMarker)
	require.True(t, begin >= 0 && end > begin, "README.md lacks the dispatch-diagram markers")
	want := "```mermaid\n" + dispatch.Mermaid() + "```\n"
	got := text[begin+len(beginMarker) : end]
	if *updateReadme && got != want {
		text = text[:begin+len(beginMarker)] + want + text[end:]
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
		got = want
	}
	require.Equal(t, want, got, "README diagram is stale: go test ./dispatch -run TestREADMEDiagram -update-readme")
}

func TestMermaidHasEveryRow(t *testing.T) {
	m := dispatch.Mermaid()
	require.True(t, strings.HasPrefix(m, "stateDiagram-v2\n"))
	lines := strings.Split(strings.TrimSpace(m), "\n")[1:]
	terminal := 0
	for _, s := range dispatch.States() {
		if s.Terminal() {
			terminal++
			require.Contains(t, m, "    "+string(s)+" --> [*]\n")
		}
	}
	require.ElementsMatch(t, []dispatch.State{dispatch.Rejected, dispatch.Hidden, dispatch.Cancelled, dispatch.Closed}, terminalStates())
	require.Len(t, lines, len(dispatch.Transitions())+terminal)
	require.Contains(t, m, "    [*] --> ordered: order (resident)\n")
	require.Contains(t, m, "    dispatched --> returned: return (team_leader, system)\n")
}

func terminalStates() []dispatch.State {
	var out []dispatch.State
	for _, s := range dispatch.States() {
		if s.Terminal() {
			out = append(out, s)
		}
	}
	return out
}
