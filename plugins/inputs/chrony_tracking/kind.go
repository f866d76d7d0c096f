package chrony_tracking

import (
	"strconv"
	"strings"
)

// Kind is one of the chronyd reports the plugin reads, named as in
// inputs.chrony's metrics option.
type Kind uint8

// The reports, each written as its own measurement chrony_<word>.
const (
	KindTracking Kind = iota
	KindSources
	KindSourceStats
	KindServerStats
	KindActivity
	numKinds
)

var kindWords = [numKinds]string{"tracking", "sources", "sourcestats", "serverstats", "activity"}

// String returns the report's word in the metrics option.
func (k Kind) String() string {
	if k < numKinds {
		return kindWords[k]
	}
	return "kind_" + strconv.Itoa(int(k))
}

// measurements are spelled out so that naming a point allocates nothing.
var measurements = [numKinds]string{Name, "chrony_sources", "chrony_sourcestats", "chrony_serverstats", "chrony_activity"}

// Measurement is the measurement the report's points are written to:
// chrony_tracking (Name), chrony_sources, and so on.
func (k Kind) Measurement() string {
	if k < numKinds {
		return measurements[k]
	}
	return "chrony_" + k.String()
}

// DefaultMetrics is the metrics option when it is not set: tracking, so
// that configurations written before the option read what they did.
var DefaultMetrics = []string{"tracking"}

// parseMetrics checks the metrics option: each word one of inputs.chrony's,
// none twice (two would write every point twice). key names the option as
// the user wrote it ("metrics", or "--metrics" on the command line).
func parseMetrics(words []string) ([]Kind, error) {
	if len(words) == 0 {
		words = DefaultMetrics
	}
	kinds := make([]Kind, 0, len(words))
	seen := [numKinds]bool{}
	for i, w := range words {
		k, ok := kindOf(w)
		key := "metrics[" + strconv.Itoa(i) + "]"
		switch {
		case !ok:
			return nil, optionError(key, strconv.Quote(w), "unknown report",
				"write any of "+strings.Join(kindWords[:], ", ")+` (inputs.chrony's words), e.g. metrics = ["tracking", "sources"]`)
		case seen[k]:
			return nil, optionError(key, strconv.Quote(w), "listed twice", "list each report once")
		}
		seen[k] = true
		kinds = append(kinds, k)
	}
	return kinds, nil
}

func kindOf(w string) (Kind, bool) {
	for k, kw := range kindWords {
		if w == kw {
			return Kind(k), true
		}
	}
	return 0, false
}

// Label prefixes a message about the report: "chrony_sources: " and the
// like, and nothing for tracking, whose messages predate the others.
func (k Kind) Label() string {
	if k == KindTracking {
		return ""
	}
	return k.Measurement() + ": "
}
