package sidelog

import (
	"math"
	"time"
)

// Records are stored with their time as Unix nanoseconds in 64 bits, which
// reach from MinTime to MaxTime. Outside that range a time cannot be
// stored: importing one is an error, and the handler clamps one to the
// nearest end and keeps the original in the KeyTimeClamped attribute.
var (
	MinTime = time.Unix(0, math.MinInt64).UTC() // 1677-09-21T00:12:43.145224192Z
	MaxTime = time.Unix(0, math.MaxInt64).UTC() // 2262-04-11T23:47:16.854775807Z
)

// KeyTimeClamped is the attribute the handler adds to a record whose time
// was outside MinTime..MaxTime: the original time in RFC 3339. The record's
// time is then MinTime or MaxTime.
const KeyTimeClamped = "sidelog.time_clamped"

// TimeInRange reports whether t can be stored as a record's time.
func TimeInRange(t time.Time) bool {
	return !t.Before(MinTime) && !t.After(MaxTime)
}

// ClampTime returns t, or the nearest of MinTime and MaxTime when t is
// outside them, and whether it was clamped.
func ClampTime(t time.Time) (time.Time, bool) {
	switch {
	case t.Before(MinTime):
		return MinTime, true
	case t.After(MaxTime):
		return MaxTime, true
	}
	return t, false
}
