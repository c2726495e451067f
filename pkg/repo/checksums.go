package repo

import (
	"context"
	"maps"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// Checksums returns the algs checksums of an asset's blob, keyed by
// algorithm, computing and storing the ones not computed at write time:
// all of those in one read of the blob, and once for concurrent callers
// (who would otherwise each read it once per algorithm).
func (m *Manager) Checksums(ctx context.Context, a *meta.Asset, algs []blob.Algorithm) (map[string]string, error) {
	out := make(map[string]string, len(algs))
	missing := pick(a.Checksums, algs, out)
	if len(missing) == 0 {
		return out, nil
	}
	names := make([]string, len(missing))
	for i, alg := range missing {
		names[i] = string(alg)
	}
	v, err, _ := m.sums.Do(a.BlobStore+"\x00"+a.Blob.String()+"\x00"+strings.Join(names, ","), func() (any, error) {
		got := map[string]string{}
		// A flight that just ended may have stored them already.
		var stored map[string]string
		if rec, err := m.db.BlobRecord(a.BlobStore, a.Blob); err == nil {
			stored = rec.Checksums
		}
		still := pick(stored, missing, got)
		if len(still) == 0 {
			return got, nil
		}
		// Shared by every caller waiting: one leaving must not fail it.
		store, ok := m.stores.Get(a.BlobStore)
		if !ok {
			return nil, errs.New(errs.NotFound, "blob store %s not found", a.BlobStore)
		}
		sums, err := store.Checksums(context.WithoutCancel(ctx), a.Blob, still)
		if err != nil {
			return nil, err
		}
		computed := make(map[string]string, len(sums))
		for alg, v := range sums {
			computed[string(alg)] = v
		}
		maps.Copy(got, computed)
		return got, m.db.SetBlobChecksums(a.BlobStore, a.Blob, computed)
	})
	if err != nil {
		return nil, err
	}
	maps.Copy(out, v.(map[string]string))
	return out, nil
}

// pick copies into out the checksums of algs that have holds and returns
// the algorithms it lacks.
func pick(have map[string]string, algs []blob.Algorithm, out map[string]string) []blob.Algorithm {
	var missing []blob.Algorithm
	for _, alg := range algs {
		if v := have[string(alg)]; v != "" {
			out[string(alg)] = v
		} else {
			missing = append(missing, alg)
		}
	}
	return missing
}
