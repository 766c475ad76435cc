package scan

import (
	"archive/zip"
	"bytes"
	"io"
	"path"
	"strings"

	"wardmail/message"
)

// DefaultBlocked are the file name extensions refused by default: programs,
// scripts and Office files that may carry macros, as NHS mail blocks them.
var DefaultBlocked = []string{
	// Programs and installers.
	"exe", "com", "scr", "pif", "cpl", "msi", "msp", "dll", "sys", "jar", "app", "apk", "appx", "msix",
	// Scripts and shortcuts.
	"bat", "cmd", "ps1", "psm1", "vbs", "vbe", "js", "jse", "wsf", "wsh", "hta", "lnk", "scf", "reg", "inf",
	// Office files whose format exists to carry macros.
	"docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm", "ppam", "ppsm", "sldm",
	// Disk images that hide their contents from scanners.
	"iso", "img", "vhd", "vhdx",
}

// Limits on the attachment walk: a message that is deeper or larger than
// these is looked at up to them (clamd still sees all of it).
const (
	maxParts      = 500     // MIME parts examined per message
	maxDepth      = 8       // message/rfc822 and zip nesting
	maxDecoded    = 8 << 20 // bytes decoded from one part to look inside it
	maxZipEntries = 2000    // names read from one archive
)

// Blocked is an attachment refused by type.
type Blocked struct {
	Name   string // the file as the sender named it, "archive.zip/inner.exe" inside an archive
	Reason string // what it is, for the sentence
}

// blockList is a set of lower-case extensions.
type blockList map[string]bool

func newBlockList(exts []string) blockList {
	b := blockList{}
	for _, e := range exts {
		e = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(e), "."))
		if e != "" {
			b[e] = true
		}
	}
	return b
}

// byName reports whether a file name has a blocked extension. Every
// extension counts ("report.pdf.exe", and "notes.exe.txt" is not blocked).
func (b blockList) byName(name string) bool {
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(strings.TrimRight(name, ". ")), "."))
	return ext != "" && b[ext]
}

// FindBlocked returns the first attachment of a message that the list
// refuses, or nil. It looks at part names, at the first bytes of each part
// (a Windows or Linux program whatever its name) and inside zip archives
// (names, and Office documents that carry a macro project).
func FindBlocked(body []byte, exts []string) *Blocked {
	sum, err := message.Summarize(body)
	if err != nil || sum.Structure == nil {
		return nil
	}
	w := &walker{body: body, blocked: newBlockList(exts)}
	return w.part(sum.Structure, 0)
}

type walker struct {
	body    []byte
	blocked blockList
	parts   int
}

func (w *walker) part(p *message.Part, depth int) *Blocked {
	w.parts++
	if w.parts > maxParts || depth > maxDepth {
		return nil
	}
	for _, c := range p.Children {
		if b := w.part(c, depth); b != nil {
			return b
		}
	}
	if p.Type == "multipart" {
		return nil
	}
	name := partName(p)
	if name != "" && w.blocked.byName(name) {
		return &Blocked{Name: name, Reason: describe(name)}
	}
	if p.Message != nil && p.Message.Structure != nil {
		return w.part(p.Message.Structure, depth+1)
	}
	if p.Type == "text" && name == "" {
		return nil
	}
	if p.BodyStart < 0 || p.End > int64(len(w.body)) || p.BodyStart > p.End {
		return nil
	}
	data := message.DecodeTransfer(p.Encoding, w.body[p.BodyStart:p.End], maxDecoded)
	return w.content(name, data, depth)
}

// content looks at what a file is, whatever it is called.
func (w *walker) content(name string, data []byte, depth int) *Blocked {
	shown := name
	if shown == "" {
		shown = "an unnamed attachment"
	}
	switch {
	case w.blocked["exe"] && bytes.HasPrefix(data, []byte("MZ")) && isPE(data):
		return &Blocked{Name: shown, Reason: "a Windows program"}
	case w.blocked["exe"] && bytes.HasPrefix(data, []byte("\x7fELF")):
		return &Blocked{Name: shown, Reason: "a Linux program"}
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return w.zip(shown, data, depth)
	}
	return nil
}

// isPE checks the PE signature the MZ header points to, so that a text
// file that happens to start with "MZ" is not taken for a program.
func isPE(data []byte) bool {
	if len(data) < 0x40 {
		return false
	}
	off := int(data[0x3c]) | int(data[0x3d])<<8 | int(data[0x3e])<<16 | int(data[0x3f])<<24
	return off > 0 && off+4 <= len(data) && string(data[off:off+4]) == "PE\x00\x00"
}

// zip looks at the names inside an archive, and at a macro project inside
// an Office document (OOXML is a zip: a vbaProject.bin part means macros,
// whatever the extension says).
func (w *walker) zip(name string, data []byte, depth int) *Blocked {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil // a damaged archive: clamd still sees it
	}
	macroExt := w.blocked["docm"] || w.blocked["xlsm"] || w.blocked["pptm"]
	for i, f := range zr.File {
		if i >= maxZipEntries {
			break
		}
		inner := name + "/" + f.Name
		if macroExt && strings.EqualFold(path.Base(f.Name), "vbaProject.bin") {
			return &Blocked{Name: name, Reason: "an Office document with macros"}
		}
		if w.blocked.byName(f.Name) {
			return &Blocked{Name: inner, Reason: describe(f.Name)}
		}
		if depth < maxDepth && strings.EqualFold(path.Ext(f.Name), ".zip") && f.UncompressedSize64 <= maxDecoded {
			if b := w.inner(inner, f, depth); b != nil {
				return b
			}
		}
	}
	return nil
}

func (w *walker) inner(name string, f *zip.File, depth int) *Blocked {
	rc, err := f.Open()
	if err != nil {
		return nil
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(rc, maxDecoded)); err != nil {
		return nil
	}
	return w.content(name, buf.Bytes(), depth+1)
}

// partName is the file name a part is given: the Content-Disposition
// filename, else the Content-Type name (RFC 2183 2.3, RFC 2045 5.1).
func partName(p *message.Part) string {
	for _, kv := range p.DispParams {
		if kv[0] == "filename" && kv[1] != "" {
			return kv[1]
		}
	}
	return p.Param("name")
}

// describe says what kind of file an extension names.
func describe(name string) string {
	switch strings.ToLower(strings.TrimPrefix(path.Ext(name), ".")) {
	case "docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm", "ppam", "ppsm", "sldm":
		return "an Office document with macros"
	case "bat", "cmd", "ps1", "psm1", "vbs", "vbe", "js", "jse", "wsf", "wsh", "hta", "reg", "inf", "scf", "lnk":
		return "a script or shortcut"
	case "iso", "img", "vhd", "vhdx":
		return "a disk image"
	}
	return "a program"
}
