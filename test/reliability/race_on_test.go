//go:build race

package reliability

// raceEnabled: the race detector's shadow memory grows the resident set
// during the first tens of thousands of calls before it levels off.
const raceEnabled = true
