package cmdmon

import (
	"encoding/binary"
	"strconv"
)

// Activity is chronyd's activity report (chronyc activity): how many of its
// NTP sources are online, offline, in a burst, or waiting for their name
// to resolve.
type Activity struct {
	// Address is the chronyd command address that answered, as a URL.
	Address      string
	Online       int32
	Offline      int32
	BurstOnline  int32
	BurstOffline int32
	Unresolved   int32
}

// Activity reply offsets (RPY_Activity in candm.h): five int32 counters.
const (
	offActivity = 28
	activityLen = 48
)

var activityFields = []field{
	{28, "online"}, {32, "offline"}, {36, "burst_online"}, {40, "burst_offline"}, {44, "unresolved"},
}

// decodeActivity reads a checked RPY_ACTIVITY and validates it: counts of
// sources are never negative.
func decodeActivity(p []byte) (Activity, *Error) {
	var v [5]int32
	for i, f := range activityFields {
		v[i] = int32(binary.BigEndian.Uint32(p[f.off:]))
		if v[i] < 0 {
			return Activity{}, invalidField(f.name, strconv.Itoa(int(v[i])), "non-negative")
		}
	}
	return Activity{Online: v[0], Offline: v[1], BurstOnline: v[2], BurstOffline: v[3], Unresolved: v[4]}, nil
}
