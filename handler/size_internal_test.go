package handler

import (
	"testing"
	"unsafe"
)

// TestItemSize keeps the bytes bound honest: itemBase must cover a slot.
func TestItemSize(t *testing.T) {
	if s := unsafe.Sizeof(item{}); s > itemBase {
		t.Errorf("item is %d bytes, more than itemBase %d", s, itemBase)
	}
}
