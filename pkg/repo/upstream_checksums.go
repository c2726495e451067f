package repo

import (
	"context"
	"io"
	"net/http"

	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/errs"
)

// UpstreamChecksums is implemented by formats whose upstreams publish a
// checksum file beside content (Maven's .sha1): a download is checked
// against it where the upstream has one, and not cached if they differ.
type UpstreamChecksums interface {
	// ChecksumFile returns the upstream path of the checksum file of the
	// content at path and its algorithm, one of the format's Checksums;
	// ok is false when path has none (metadata, checksum files).
	ChecksumFile(path string) (file string, alg blob.Algorithm, ok bool)
}

// verifyDownload is the check of a download of path before it is cached:
// against the upstream's checksum file and against the checksum the
// format's metadata names, each where the format has one.
func (p *proxyRepo) verifyDownload(ctx context.Context, path string) func(blob.Info) error {
	var checks []func(blob.Info) error
	for _, check := range []func(blob.Info) error{p.upstreamChecksum(ctx, path), p.listedChecksum(ctx, path)} {
		if check != nil {
			checks = append(checks, check)
		}
	}
	if len(checks) == 0 {
		return nil
	}
	return func(info blob.Info) error {
		for _, check := range checks {
			if err := check(info); err != nil {
				return err
			}
		}
		return nil
	}
}

// listedChecksum checks a download of content against the checksum its
// format's metadata names (ContentChecksum), which the proxy fetches and
// caches as it would for a client.
func (p *proxyRepo) listedChecksum(ctx context.Context, path string) func(blob.Info) error {
	cc, ok := p.format.(ContentChecksum)
	if !ok || p.format.IsMetadata(path) {
		return nil
	}
	alg, want, ok := cc.ExpectedChecksum(WithBaseURL(ctx, nil), p, path)
	if !ok {
		return nil
	}
	return func(info blob.Info) error {
		if got := info.Checksums[alg]; got != want {
			return errs.New(errs.Upstream, "%s does not have the %s checksum %s its metadata lists (the bytes have %s)", path, alg, want, got)
		}
		return nil
	}
}

// maxChecksumFile bounds what is read of an upstream checksum file: a hex
// digest, perhaps followed by a file name.
const maxChecksumFile = 1 << 10

// upstreamChecksum starts fetching the upstream's checksum file of path,
// alongside its download, and returns the check of the downloaded bytes
// against it (nil when the format publishes none). An upstream without the
// file, or one that fails to serve it, leaves the bytes unchecked, as
// Maven's default checksum policy does; a checksum that differs fails the
// download, so nothing is cached.
func (p *proxyRepo) upstreamChecksum(ctx context.Context, path string) func(blob.Info) error {
	uc, ok := p.format.(UpstreamChecksums)
	if !ok {
		return nil
	}
	file, alg, ok := uc.ChecksumFile(path)
	if !ok {
		return nil
	}
	want := make(chan string, 1)
	go func() { want <- p.fetchChecksum(ctx, file, alg) }()
	return func(info blob.Info) error {
		var sum string
		select {
		case sum = <-want:
		case <-ctx.Done():
			return ctx.Err()
		}
		if got := info.Checksums[alg]; sum != "" && got != "" && got != sum {
			return errs.New(errs.Upstream, "%s does not match the upstream's %s checksum %s (the bytes have %s)", path, alg, sum, got)
		}
		return nil
	}
}

// fetchChecksum returns the lowercase hex digest in the upstream's
// checksum file, or "" if there is none to be had.
func (p *proxyRepo) fetchChecksum(ctx context.Context, file string, alg blob.Algorithm) string {
	resp, err := p.request(ctx, http.MethodGet, file, nil)
	if err != nil {
		p.log.Warn("upstream checksum not fetched", "path", file, "err", err)
		return ""
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode != http.StatusNotFound {
			p.log.Warn("upstream checksum not fetched", "path", file, "status", resp.StatusCode)
		}
		return ""
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxChecksumFile))
	if err != nil {
		p.log.Warn("upstream checksum not fetched", "path", file, "err", err)
		return ""
	}
	sum := blob.ParseChecksumFile(string(b), alg)
	if sum == "" {
		p.log.Warn("upstream checksum file is not a checksum", "path", file)
	}
	return sum
}
