package docker

// Manifests as documents: media types, parsing and validation, references.
// Nothing here touches HTTP or a repository.

import (
	"encoding/json"
	"fmt"
	"mime"
	"strconv"

	digest "github.com/opencontainers/go-digest"
)

// maxManifestSize bounds manifest uploads, as the spec lets registries do.
const maxManifestSize = 4 << 20

// Media types the registry understands.
const (
	mtOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	mtOCIIndex       = "application/vnd.oci.image.index.v1+json"
	mtDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mtDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	mtSchema1        = "application/vnd.docker.distribution.manifest.v1+json"
	mtSchema1Signed  = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	URLs         []string          `json:"urls,omitempty"`
}

// manifest holds the fields of every manifest kind the registry reads.
type manifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        *descriptor       `json:"config"`
	Layers        []descriptor      `json:"layers"`
	Manifests     []descriptor      `json:"manifests"`
	Subject       *descriptor       `json:"subject"`
	Annotations   map[string]string `json:"annotations"`
}

func validRef(ref string) bool {
	if isDigestRef(ref) {
		_, ok := parseDigest(ref)
		return ok
	}
	return tagRe.MatchString(ref)
}

// parseManifest checks a manifest's JSON and settles its media type: the
// Content-Type header, which must agree with a mediaType field if both are
// given. Schema 1 manifests are refused: no current client needs them.
func parseManifest(body []byte, contentType string) (*manifest, string, error) {
	invalid := func(msg string) error { return codeManifestInvalid.with(msg, nil) }
	var m manifest
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, "", invalid("manifest is not valid JSON: " + err.Error())
	}
	ct, _, _ := mime.ParseMediaType(contentType)
	if ct == mtSchema1 || ct == mtSchema1Signed || m.MediaType == mtSchema1 || m.MediaType == mtSchema1Signed || m.SchemaVersion == 1 {
		return nil, "", invalid("Docker image manifest schema 1 is not supported; push with a client that uses schema 2 or OCI")
	}
	if m.SchemaVersion != 2 {
		return nil, "", invalid("schemaVersion must be 2")
	}
	mediaType := ct
	switch {
	case m.MediaType != "" && ct != "" && m.MediaType != ct:
		return nil, "", invalid(fmt.Sprintf("mediaType %s does not match Content-Type %s", m.MediaType, ct))
	case mediaType == "" && m.MediaType != "":
		mediaType = m.MediaType
	case mediaType == "" && m.Manifests != nil:
		mediaType = mtOCIIndex
	case mediaType == "":
		mediaType = mtOCIManifest
	}
	switch mediaType {
	case mtOCIManifest, mtDockerManifest:
		if m.Config == nil {
			return nil, "", invalid("an image manifest needs a config descriptor")
		}
	case mtOCIIndex, mtDockerList:
		if m.Config != nil || m.Layers != nil {
			return nil, "", invalid("an index lists manifests, not a config or layers")
		}
	}
	for _, desc := range m.descriptors() {
		if _, ok := parseDigest(desc.Digest); !ok {
			return nil, "", invalid("invalid descriptor digest " + strconv.Quote(desc.Digest))
		}
	}
	return &m, mediaType, nil
}

// descriptors returns every descriptor the manifest names.
func (m *manifest) descriptors() []descriptor {
	var out []descriptor
	if m.Config != nil {
		out = append(out, *m.Config)
	}
	out = append(out, m.Layers...)
	out = append(out, m.Manifests...)
	if m.Subject != nil {
		out = append(out, *m.Subject)
	}
	return out
}

// reference is a descriptor a manifest depends on and where the image
// stores it: config and layers as blobs, an index's entries as manifests.
// (The subject is no dependency: it need not exist.)
type reference struct {
	desc descriptor
	path string
}

func (m *manifest) references(image string) []reference {
	var out []reference
	if m.Config != nil {
		out = append(out, reference{*m.Config, blobPath(image, digest.Digest(m.Config.Digest))})
	}
	for _, l := range m.Layers {
		out = append(out, reference{l, blobPath(image, digest.Digest(l.Digest))})
	}
	for _, c := range m.Manifests {
		out = append(out, reference{c, manifestPath(image, c.Digest)})
	}
	return out
}

// bodyDigest is the digest of a pushed manifest: in the algorithm of ref
// when ref is a digest, which it must then equal; sha256 for a tag.
func bodyDigest(body []byte, ref string) (digest.Digest, error) {
	if !isDigestRef(ref) {
		return digest.SHA256.FromBytes(body), nil
	}
	want, ok := parseDigest(ref)
	if !ok {
		return "", codeDigestInvalid.with("invalid digest", ref)
	}
	d := want.Algorithm().FromBytes(body)
	if d != want {
		return "", codeDigestInvalid.with("manifest digest does not match the reference", map[string]string{"computed": d.String()})
	}
	return d, nil
}
