package telegraftoml

import "testing"

// BenchmarkParse reads the config --once is measured with.
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("[[inputs.chrony_tracking]]\n  server = \"udp://127.0.0.1:323\"\n"); err != nil {
			b.Fatal(err)
		}
	}
}
