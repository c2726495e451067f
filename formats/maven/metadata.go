package maven

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Metadata is maven-metadata.xml, as maven-repository-metadata models it
// (modelVersion 1.1.0; 1.0.0 files lack the attribute and snapshotVersions).
// The field order is the order Maven writes elements in.
type Metadata struct {
	XMLName      xml.Name    `xml:"metadata"`
	ModelVersion string      `xml:"modelVersion,attr,omitempty"`
	GroupID      string      `xml:"groupId,omitempty"`
	ArtifactID   string      `xml:"artifactId,omitempty"`
	Version      string      `xml:"version,omitempty"`
	Versioning   *Versioning `xml:"versioning,omitempty"`
	Plugins      []Plugin    `xml:"plugins>plugin,omitempty"`
}

// Versioning is the <versioning> of artifact-level (versions) or
// version-level (snapshot) metadata.
type Versioning struct {
	Latest           string            `xml:"latest,omitempty"`
	Release          string            `xml:"release,omitempty"`
	Snapshot         *Snapshot         `xml:"snapshot,omitempty"`
	Versions         []string          `xml:"versions>version,omitempty"`
	LastUpdated      string            `xml:"lastUpdated,omitempty"` // yyyyMMddHHmmss UTC
	SnapshotVersions []SnapshotVersion `xml:"snapshotVersions>snapshotVersion,omitempty"`
}

// Snapshot names the newest build of a snapshot version.
type Snapshot struct {
	Timestamp   string `xml:"timestamp,omitempty"` // yyyyMMdd.HHmmss
	BuildNumber int    `xml:"buildNumber,omitempty"`
	LocalCopy   bool   `xml:"localCopy,omitempty"`
}

// SnapshotVersion is the file version of one (classifier, extension) in a
// snapshot version.
type SnapshotVersion struct {
	Classifier string `xml:"classifier,omitempty"`
	Extension  string `xml:"extension"`
	Value      string `xml:"value"`   // "1.1-20261201.123456-3"
	Updated    string `xml:"updated"` // yyyyMMddHHmmss
}

// Plugin maps a goal prefix to a plugin of the group, in group-level
// metadata.
type Plugin struct {
	Name       string `xml:"name,omitempty"`
	Prefix     string `xml:"prefix"`
	ArtifactID string `xml:"artifactId"`
}

// modelVersion is the metadata model written: the one with
// snapshotVersions, as Maven 3 writes it.
const modelVersion = "1.1.0"

// updatedLayout is how Maven writes lastUpdated and updated (UTC).
const updatedLayout = "20060102150405"

// timestampLayout is how Maven writes a snapshot build's timestamp (UTC)
// in file versions and in <snapshot><timestamp>.
const timestampLayout = "20060102.150405"

// FormatTime renders t in UTC as yyyyMMddHHmmss, as lastUpdated is written.
func FormatTime(t time.Time) string { return t.UTC().Format(updatedLayout) }

// ParseMetadata parses maven-metadata.xml. It refuses documents with DTDs
// (so no entity is ever declared), other roots than <metadata>, and content
// after the root. Text is trimmed, as Maven's reader does.
func ParseMetadata(data []byte) (*Metadata, error) {
	var m Metadata
	if err := decodeStrict(data, "metadata", &m); err != nil {
		return nil, err
	}
	m.trim()
	return &m, nil
}

// decodeStrict decodes the XML document data, whose root must be named
// root, into v; DTDs and other directives are refused anywhere.
func decodeStrict(data []byte, root string, v any) error {
	raw := xml.NewDecoder(bytes.NewReader(data))
	raw.Strict = true
	raw.CharsetReader = charsetReader
	d := xml.NewTokenDecoder(noDirectives{raw})
	for {
		tok, err := d.Token()
		if err != nil {
			return xmlError(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != root {
				return fmt.Errorf("root element is <%s>, not <%s>", t.Name.Local, root)
			}
			if err := d.DecodeElement(v, &t); err != nil {
				return xmlError(err)
			}
			return trailer(d)
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return errors.New("text before the root element")
			}
		}
	}
}

// trailer checks that only whitespace, comments and processing
// instructions follow the root element.
func trailer(d *xml.Decoder) error {
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return xmlError(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return errors.New("text after the root element")
			}
		case xml.StartElement:
			return errors.New("more than one root element")
		}
	}
}

func xmlError(err error) error {
	if err == io.EOF {
		return errors.New("no root element")
	}
	if errors.Is(err, errDirective) {
		return err
	}
	return fmt.Errorf("malformed XML: %w", err)
}

var errDirective = errors.New("DTDs and other <!...> declarations are not allowed")

// noDirectives passes tokens on and refuses <!DOCTYPE ...> and the like:
// encoding/xml would not expand their entities, but a document that
// declares any is no metadata Maven writes.
type noDirectives struct{ d *xml.Decoder }

func (n noDirectives) Token() (xml.Token, error) {
	tok, err := n.d.Token()
	if _, ok := tok.(xml.Directive); ok {
		return nil, errDirective
	}
	return tok, err
}

// charsetReader reads the single-byte encodings an XML declaration might
// name besides UTF-8.
func charsetReader(charset string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "us-ascii", "ascii", "iso-8859-1", "latin1", "iso_8859-1":
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(b))
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", charset)
}

// trim trims the text of every field.
func (m *Metadata) trim() {
	for _, s := range []*string{&m.ModelVersion, &m.GroupID, &m.ArtifactID, &m.Version} {
		*s = strings.TrimSpace(*s)
	}
	for i := range m.Plugins {
		p := &m.Plugins[i]
		for _, s := range []*string{&p.Name, &p.Prefix, &p.ArtifactID} {
			*s = strings.TrimSpace(*s)
		}
	}
	v := m.Versioning
	if v == nil {
		return
	}
	for _, s := range []*string{&v.Latest, &v.Release, &v.LastUpdated} {
		*s = strings.TrimSpace(*s)
	}
	for i := range v.Versions {
		v.Versions[i] = strings.TrimSpace(v.Versions[i])
	}
	if v.Snapshot != nil {
		v.Snapshot.Timestamp = strings.TrimSpace(v.Snapshot.Timestamp)
	}
	for i := range v.SnapshotVersions {
		sv := &v.SnapshotVersions[i]
		for _, s := range []*string{&sv.Classifier, &sv.Extension, &sv.Value, &sv.Updated} {
			*s = strings.TrimSpace(*s)
		}
	}
}

// Marshal renders m as Maven writes it: an XML declaration, two-space
// indentation, modelVersion 1.1.0, and a final newline. The same Metadata
// always renders to the same bytes.
func (m *Metadata) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	e := xml.NewEncoder(&b)
	e.Indent("", "  ")
	if err := e.Encode(m.out()); err != nil {
		// Only unsupported types fail to encode; these have none.
		panic("maven: encoding metadata: " + err.Error())
	}
	b.WriteString("\n")
	return b.Bytes()
}

// The *Out types are Metadata for encoding: encoding/xml writes the
// wrapper of an "a>b" field even when the list is empty, and Maven omits
// empty lists.
type (
	metadataOut struct {
		XMLName      xml.Name       `xml:"metadata"`
		ModelVersion string         `xml:"modelVersion,attr"`
		GroupID      string         `xml:"groupId,omitempty"`
		ArtifactID   string         `xml:"artifactId,omitempty"`
		Version      string         `xml:"version,omitempty"`
		Versioning   *versioningOut `xml:"versioning"`
		Plugins      *pluginsOut    `xml:"plugins"`
	}
	versioningOut struct {
		Latest           string               `xml:"latest,omitempty"`
		Release          string               `xml:"release,omitempty"`
		Snapshot         *Snapshot            `xml:"snapshot"`
		Versions         *versionsOut         `xml:"versions"`
		LastUpdated      string               `xml:"lastUpdated,omitempty"`
		SnapshotVersions *snapshotVersionsOut `xml:"snapshotVersions"`
	}
	pluginsOut struct {
		Plugin []Plugin `xml:"plugin"`
	}
	versionsOut struct {
		Version []string `xml:"version"`
	}
	snapshotVersionsOut struct {
		SnapshotVersion []SnapshotVersion `xml:"snapshotVersion"`
	}
)

func (m *Metadata) out() *metadataOut {
	o := &metadataOut{ModelVersion: modelVersion, GroupID: m.GroupID, ArtifactID: m.ArtifactID, Version: m.Version}
	if len(m.Plugins) > 0 {
		o.Plugins = &pluginsOut{m.Plugins}
	}
	v := m.Versioning
	if v == nil {
		return o
	}
	o.Versioning = &versioningOut{Latest: v.Latest, Release: v.Release, Snapshot: v.Snapshot, LastUpdated: v.LastUpdated}
	if len(v.Versions) > 0 {
		o.Versioning.Versions = &versionsOut{v.Versions}
	}
	if len(v.SnapshotVersions) > 0 {
		o.Versioning.SnapshotVersions = &snapshotVersionsOut{v.SnapshotVersions}
	}
	return o
}

// SnapshotFile is the file version of (classifier, extension) in
// version-level metadata m: its snapshotVersion, or else (metadata without
// snapshotVersions, as Maven 2 wrote it) the version of its <snapshot>
// build. The value may be the base version itself ("1.1-SNAPSHOT") for
// files stored without a timestamp. It is false if m names neither.
func (m *Metadata) SnapshotFile(classifier, extension string) (string, bool) {
	v := m.Versioning
	if v == nil {
		return "", false
	}
	for _, sv := range v.SnapshotVersions {
		if sv.Classifier == classifier && sv.Extension == extension && sv.Value != "" {
			return sv.Value, true
		}
	}
	s := v.Snapshot
	if len(v.SnapshotVersions) > 0 || s == nil || s.Timestamp == "" || s.BuildNumber < 1 ||
		!strings.HasSuffix(m.Version, snapshotSuffix) {
		return "", false
	}
	return strings.TrimSuffix(m.Version, "SNAPSHOT") + s.Timestamp + "-" + strconv.Itoa(s.BuildNumber), true
}
