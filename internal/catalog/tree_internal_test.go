package catalog

import "testing"

// The cache keeps at most its byte bound, evicting the least recently
// used fragments, never answers for another rev, and never replaces a
// fragment by an older build.
func TestFragmentCacheBounds(t *testing.T) {
	t.Parallel()
	frag := func(id int32, rev int64) *fragment { return &fragment{id: id, rev: rev, size: 100} }
	c := newFragmentCache(300)
	for id := int32(1); id <= 3; id++ {
		c.put(frag(id, 1))
	}
	if c.get(1, 1) == nil { // 1 is now the most recently used
		t.Fatal("fragment 1 missing")
	}
	c.put(frag(4, 1)) // evicts 2, the least recently used
	if c.get(2, 1) != nil || c.get(1, 1) == nil || c.get(3, 1) == nil || c.get(4, 1) == nil {
		t.Fatal("wrong eviction")
	}
	if c.size != 300 || len(c.byID) != 3 || c.order.Len() != 3 {
		t.Fatalf("size %d, %d entries, %d in order", c.size, len(c.byID), c.order.Len())
	}
	if c.get(1, 2) != nil {
		t.Fatal("answered for another rev")
	}
	c.put(frag(1, 5))
	c.put(frag(1, 4)) // a slower build of an older rev
	if c.get(1, 5) == nil || c.get(1, 4) != nil {
		t.Fatal("older build replaced a newer one")
	}
	c.put(&fragment{id: 9, rev: 1, size: 301}) // larger than the bound: not kept
	if c.get(9, 1) != nil || c.size != 300 {
		t.Fatalf("oversized fragment kept (size %d)", c.size)
	}
}
