package sqlite

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"time"
)

// durHist is a histogram of request durations in log-scale buckets: bucket
// i ≥ 1 holds durations in [γ^(i-1), γ^i) nanoseconds with γ = 1.02, so
// a percentile read from it (the bucket's geometric middle) is within 1%
// of the exact value. Bucket 0 holds durations ≤ 0 (none recorded).
// Stored as a blob: a version byte, then (bucket delta, count) varint pairs
// in bucket order; a minute's requests on one route fill a few buckets.
type durHist map[uint16]uint64

const (
	histGamma   = 1.02
	histVersion = 1
	maxBucket   = 2000 // γ^2000 ns is far beyond any duration
)

var lnGamma = math.Log(histGamma)

func histBucket(d time.Duration) uint16 {
	if d <= 0 {
		return 0
	}
	i := 1 + int(math.Floor(math.Log(float64(d))/lnGamma))
	return uint16(min(max(i, 1), maxBucket))
}

// bucketValue is the duration a bucket stands for: its geometric middle.
func bucketValue(i uint16) time.Duration {
	if i == 0 {
		return 0
	}
	return time.Duration(math.Round(math.Exp((float64(i) - 0.5) * lnGamma)))
}

func (h durHist) add(d time.Duration, n uint64) { h[histBucket(d)] += n }

func (h durHist) encode() []byte {
	keys := make([]uint16, 0, len(h))
	for b, n := range h {
		if n > 0 {
			keys = append(keys, b)
		}
	}
	slices.Sort(keys)
	out := make([]byte, 1, 1+4*len(keys))
	out[0] = histVersion
	prev := uint16(0)
	for _, b := range keys {
		out = binary.AppendUvarint(out, uint64(b-prev))
		out = binary.AppendUvarint(out, h[b])
		prev = b
	}
	return out
}

var errBadHist = errors.New("bad duration histogram")

// walkHist calls add with each bucket and count of the histogram in blob
// (see durHist.encode), checking the encoding as it goes.
func walkHist(blob []byte, add func(bucket, count uint64)) error {
	if len(blob) == 0 || blob[0] != histVersion {
		return errBadHist
	}
	b := uint64(0)
	for i := 1; i < len(blob); {
		d, n1 := binary.Uvarint(blob[i:])
		if n1 <= 0 {
			return errBadHist
		}
		c, n2 := binary.Uvarint(blob[i+n1:])
		if n2 <= 0 {
			return errBadHist
		}
		b += d
		if b > maxBucket {
			return errBadHist
		}
		add(b, c)
		i += n1 + n2
	}
	return nil
}

// decode adds the histogram in blob to h.
func (h durHist) decode(blob []byte) error {
	return walkHist(blob, func(b, c uint64) { h[uint16(b)] += c })
}

// denseHist is a durHist as a slice indexed by bucket (maxBucket+1 long):
// what request analytics add thousands of rollup rows into, without a map
// operation per bucket.
type denseHist []uint64

func (h denseHist) add(d time.Duration, n uint64) { h[histBucket(d)] += n }

// decode adds the histogram in blob (see durHist.encode) to h.
func (h denseHist) decode(blob []byte) error {
	return walkHist(blob, func(b, c uint64) { h[b] += c })
}

// quantiles returns the durations at the given quantiles (0 < q ≤ 1) by
// the nearest-rank rule: the value of rank ceil(q·n) in sorted order.
// Requests without a duration (bucket 0) are left out.
func (h denseHist) quantiles(qs ...float64) []time.Duration {
	var n uint64
	for b := 1; b < len(h); b++ {
		n += h[b]
	}
	out := make([]time.Duration, len(qs))
	if n == 0 {
		return out
	}
	for i, q := range qs {
		rank := uint64(math.Ceil(q * float64(n)))
		rank = min(max(rank, 1), n)
		var seen uint64
		for b := 1; b < len(h); b++ {
			if seen += h[b]; seen >= rank {
				out[i] = bucketValue(uint16(b))
				break
			}
		}
	}
	return out
}
