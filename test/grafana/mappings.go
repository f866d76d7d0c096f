package grafana

import (
	"strconv"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// mapping shows each value as text in a colour, as a state timeline does.
func mapping(texts map[string][2]string) []dashboard.ValueMapping {
	opts := make(map[string]dashboard.ValueMappingResult, len(texts))
	for value, tc := range texts {
		opts[value] = dashboard.ValueMappingResult{Text: cog.ToPtr(tc[0]), Color: cog.ToPtr(tc[1])}
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}}
}

// leapMappings names chronyd's leap status codes.
func leapMappings() []dashboard.ValueMapping {
	return mapping(map[string][2]string{
		"0": {"normal", "green"},
		"1": {"insert second", "yellow"},
		"2": {"delete second", "yellow"},
		"3": {"not synchronised", "red"},
	})
}

// syncMappings covers both encodings of the boolean: true/false in
// InfluxDB, 1/0 in Prometheus.
func syncMappings() []dashboard.ValueMapping {
	yes, no := [2]string{"yes", "green"}, [2]string{"no", "red"}
	return mapping(map[string][2]string{"true": yes, "1": yes, "false": no, "0": no})
}

// resultNames are the result tag's values by result_code (the README's
// Result codes table).
var resultNames = []string{
	"success", "service_unavailable", "timeout", "permission_denied", "version_mismatch",
	"incomplete_reply", "invalid_data", "chronyd_error", "dns_error", "config_error",
}

func resultMappings() []dashboard.ValueMapping {
	texts := make(map[string][2]string, len(resultNames))
	for code, name := range resultNames {
		colour := "red"
		if code == 0 {
			colour = "green"
		}
		texts[strconv.Itoa(code)] = [2]string{name, colour}
	}
	return mapping(texts)
}

// stateMappings names chrony_sources' state_code as chronyc explains its
// state symbols.
func stateMappings() []dashboard.ValueMapping {
	return mapping(map[string][2]string{
		"0": {"selected", "green"},
		"1": {"not selectable", "red"},
		"2": {"falseticker", "red"},
		"3": {"jittery", "orange"},
		"4": {"combined", "blue"},
		"5": {"not combined", "yellow"},
	})
}

// selectedMappings: the selected panel has only state_code 0.
func selectedMappings() []dashboard.ValueMapping {
	return mapping(map[string][2]string{"0": {"selected", "green"}})
}
