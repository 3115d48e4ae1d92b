package org

import (
	"bytes"
	_ "embed"
)

//go:embed testdata/jintan.json
var jintanJSON []byte

// JintanJSON returns the JSON description of Jintan district's network as
// reported in 2023 ("1+9+123": 1 centre, 9 institutes, 123 stations;
// "1822": 1 corps, 8 detachments, 22 specialty teams; 57 pairings). Station,
// detachment and most unit names beyond those in the report are
// illustrative.
func JintanJSON() []byte { return bytes.Clone(jintanJSON) }

// JintanNetwork returns Jintan's network ready for Service.Import. The
// centre's ID is "jt".
func JintanNetwork() Network {
	n, err := ParseNetwork(bytes.NewReader(jintanJSON))
	if err != nil {
		// The file is embedded and covered by tests; failing here is a
		// build defect, not a runtime condition.
		panic("org: embedded jintan.json: " + err.Error())
	}
	return n
}
