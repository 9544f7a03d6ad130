//go:build goexperiment.jsonv2

package catalog_test

import (
	"encoding/json/v2"
	"testing"
)

// BenchmarkEncodeModulesJSONv2 is the encoding/json/v2 candidate (Go 1.26
// behind GOEXPERIMENT=jsonv2): GOEXPERIMENT=jsonv2 go test -bench EncodeModules.
func BenchmarkEncodeModulesJSONv2(b *testing.B) {
	ms := benchTree()
	b.ReportAllocs()
	buf := make([]byte, 0, 256<<10)
	for b.Loop() {
		var err error
		if buf, err = json.Marshal(ms); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}
