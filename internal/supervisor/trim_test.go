package supervisor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
)

// elfFile builds the start of an ELF file: its header and program headers
// of the given types (64- or 32-bit, little- or big-endian).
func elfFile(class64, little bool, etype uint16, ptypes ...uint32) []byte {
	var bo binary.ByteOrder = binary.BigEndian
	data := byte(2)
	if little {
		bo, data = binary.LittleEndian, 1
	}
	hdrSize, phSize := 52, 32
	class := byte(1)
	if class64 {
		hdrSize, phSize, class = 64, 56, 2
	}
	b := make([]byte, hdrSize+phSize*len(ptypes))
	copy(b, "\x7fELF")
	b[4], b[5], b[6] = class, data, 1
	bo.PutUint16(b[16:], etype)
	if class64 {
		bo.PutUint64(b[32:], uint64(hdrSize))
		bo.PutUint16(b[54:], uint16(phSize))
		bo.PutUint16(b[56:], uint16(len(ptypes)))
	} else {
		bo.PutUint32(b[28:], uint32(hdrSize))
		bo.PutUint16(b[42:], uint16(phSize))
		bo.PutUint16(b[44:], uint16(len(ptypes)))
	}
	for i, pt := range ptypes {
		bo.PutUint32(b[hdrSize+i*phSize:], pt)
	}
	return b
}

const (
	ptLoad     = 1
	ptNote     = 4
	ptGNUStack = 0x6474e551
	etDyn      = 3
)

func TestCheckStaticExec(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		file []byte
		want error // nil, errNotStatic, or any other error (errELF)
	}{
		{"go static executable (amd64)", elfFile(true, true, elfTypeExec, ptLoad, ptLoad, ptLoad, ptNote, ptGNUStack), nil},
		{"static executable, 32-bit big-endian", elfFile(false, false, elfTypeExec, ptLoad, ptLoad), nil},
		{"position-independent (ET_DYN)", elfFile(true, true, etDyn, ptLoad, ptLoad), errNotStatic},
		{"dynamically linked (PT_INTERP)", elfFile(true, true, elfTypeExec, elfPTInterp, ptLoad, ptLoad), errNotStatic},
		{"dynamic section", elfFile(true, true, elfTypeExec, ptLoad, elfPTDynamic), errNotStatic},
		{"RELRO segment", elfFile(false, true, elfTypeExec, ptLoad, elfPTGNURelro), errNotStatic},
		{"not ELF", []byte("#!/bin/sh\necho hello, this is a script and not a program\n"), errELF},
		{"truncated program headers", elfFile(true, true, elfTypeExec, ptLoad, ptLoad)[:80], errELF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkStaticExec(bytes.NewReader(tc.file))
			switch {
			case tc.want == nil && err != nil:
				t.Errorf("want nil (its pages may be dropped), got %v", err)
			case tc.want == errNotStatic && !errors.Is(err, errNotStatic):
				t.Errorf("want errNotStatic, got %v", err)
			case tc.want == errELF && (err == nil || errors.Is(err, errNotStatic)):
				t.Errorf("want an error reading it as ELF, got %v", err)
			}
		})
	}
}

// errELF marks, in TestCheckStaticExec, a file that is no ELF executable.
var errELF = errors.New("not ELF")

func TestBinaryRegions(t *testing.T) {
	t.Parallel()
	// The program is /app (device fd:01, inode 4242); Size and the other
	// fields smaps has are left out where they do not matter.
	smaps := strings.Join([]string{
		"00400000-007d9000 r-xp 00000000 fd:01 4242                               /app",
		"Size:               3940 kB",
		"Rss:                3800 kB",
		"Anonymous:             0 kB",
		"Swap:                  0 kB",
		"VmFlags: rd ex mr mw me",
		"007d9000-00bdb000 r--p 003d9000 fd:01 4242                               /app",
		"Rss:                2900 kB",
		"Anonymous:             0 kB",
		"Swap:                  0 kB",
		"VmFlags: rd mr mw me",
		// Written to: its data segment, and a read-only mapping holding a
		// written page (relocated, or a debugger's breakpoint).
		"00bdb000-00c3a000 rw-p 007db000 fd:01 4242                               /app",
		"Rss:                 232 kB",
		"Anonymous:           120 kB",
		"00c3a000-00c3b000 r--p 0083a000 fd:01 4242                               /app",
		"Rss:                   4 kB",
		"Anonymous:             4 kB",
		"00c3b000-00c3c000 r--p 0083b000 fd:01 4242                               /app",
		"Rss:                   0 kB",
		"Anonymous:             0 kB",
		"Swap:                  4 kB",
		// Another file, the same inode on another device, a shared mapping
		// and anonymous memory.
		"7f0000000000-7f0000100000 r--p 00000000 fd:01 99                         /usr/lib/locale/C.utf8/LC_CTYPE",
		"Rss:                  64 kB",
		"Anonymous:             0 kB",
		"7f0000100000-7f0000200000 r-xp 00000000 fd:02 4242                       /other/app",
		"Rss:                  64 kB",
		"Anonymous:             0 kB",
		"7f0000200000-7f0000300000 r--s 00000000 fd:01 4242                       /app",
		"Rss:                  64 kB",
		"Anonymous:             0 kB",
		"c000000000-c000400000 rw-p 00000000 00:00 0 ",
		"Rss:                1100 kB",
		"Anonymous:          1100 kB",
		"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]",
		"Rss:                  20 kB",
		"Anonymous:            20 kB",
		"",
	}, "\n")
	got, err := binaryRegions(strings.NewReader(smaps), 0xfd, 0x01, 4242)
	if err != nil {
		t.Fatal(err)
	}
	want := []region{{0x400000, 0x7d9000, 3800}, {0x7d9000, 0xbdb000, 2900}}
	if !slices.Equal(want, got) {
		t.Errorf("want the text and read-only data only, %+v; got %+v", want, got)
	}
	if _, err := binaryRegions(strings.NewReader("00400000 r-xp 00000000 fd:01 4242 /app\n"), 0xfd, 1, 4242); err == nil {
		t.Error("a mapping line without an address range: want an error, got nil")
	}
}
