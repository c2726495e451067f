package blob

import (
	"hash"
	"io"
	"sort"
	"sync"
)

// hashCost is each algorithm's cost relative to the others, from measured
// single-core speeds (sha1 ~2.0 GB/s, sha256 ~1.9, md5 and sha512 ~0.9).
var hashCost = map[Algorithm]int{SHA1: 10, SHA256: 11, MD5: 22, SHA512: 22}

// hashingWriter writes each chunk to dst and into every hash. With several
// hashes the work is split in two halves of similar cost, the second hashed
// on another goroutine while the first is hashed here: all four checksums
// together cost more than one core can do at disk speed.
func hashingWriter(dst io.Writer, hashes map[Algorithm]hash.Hash) io.Writer {
	if len(hashes) < 2 {
		ws := []io.Writer{dst}
		for _, h := range hashes {
			ws = append(ws, h)
		}
		return io.MultiWriter(ws...)
	}
	algs := make([]Algorithm, 0, len(hashes))
	for alg := range hashes {
		algs = append(algs, alg)
	}
	sort.Slice(algs, func(i, j int) bool { return hashCost[algs[i]] > hashCost[algs[j]] })
	// Greedy: the costliest first, each to the lighter half; the copy to
	// dst counts as cheap work on this goroutine's half.
	here, there := []io.Writer{dst}, []io.Writer{}
	costHere, costThere := 0, 0
	for _, alg := range algs {
		if costHere <= costThere {
			here, costHere = append(here, hashes[alg]), costHere+hashCost[alg]
		} else {
			there, costThere = append(there, hashes[alg]), costThere+hashCost[alg]
		}
	}
	return &splitWriter{here: io.MultiWriter(here...), there: io.MultiWriter(there...)}
}

// splitWriter writes a chunk to two writers at once. Hashes never fail, so
// only here (which holds dst) can return an error.
type splitWriter struct {
	here, there io.Writer
	wg          sync.WaitGroup
}

func (s *splitWriter) Write(p []byte) (int, error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.there.Write(p)
	}()
	n, err := s.here.Write(p)
	// p must not be reused before the other goroutine is done with it.
	s.wg.Wait()
	return n, err
}
