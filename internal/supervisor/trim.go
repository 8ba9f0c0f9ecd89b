package supervisor

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The supervisor runs the release's own binary, so an idle supervisor
// keeps resident most of the binary's read-only pages (its text and
// read-only data: 6.5 MB of an 8.6 MB examples/hello), the same pages of
// the same file the app maps. Once a generation is ready, trimBinary
// (Linux) gives back this process's mappings of those pages: the page
// cache keeps them while the app uses them, and a page the supervisor
// touches again comes back by a minor fault. What it may drop is decided
// here, from bytes, so that it can be tested anywhere.

// errNotStatic is why a binary's pages are left alone: they were written
// to after they were mapped, or may have been.
var errNotStatic = errors.New("not a statically linked ELF executable (ET_EXEC without an interpreter, dynamic section or RELRO): its read-only pages may hold relocations a drop would undo")

// ELF constants (the ELF specification, elf(5)).
const (
	elfTypeExec   = 2          // ET_EXEC
	elfPTDynamic  = 2          // PT_DYNAMIC
	elfPTInterp   = 3          // PT_INTERP
	elfPTGNURelro = 0x6474e552 // PT_GNU_RELRO
)

// checkStaticExec reads the ELF header and program headers of a binary
// and returns nil when no page of its read-only segments can have been
// written at load time: an executable (ET_EXEC, never ET_DYN, which a
// position-independent build is and which is relocated in place) with no
// interpreter, dynamic section or RELRO segment, as Go builds a program
// without cgo. Anything else is errNotStatic; a file it cannot read as
// ELF is an error too.
func checkStaticExec(r io.ReaderAt) error {
	var ident [16]byte
	if _, err := r.ReadAt(ident[:], 0); err != nil {
		return fmt.Errorf("read the ELF header: %w", err)
	}
	if string(ident[:4]) != "\x7fELF" {
		return errors.New("not an ELF file")
	}
	var bo binary.ByteOrder
	switch ident[5] {
	case 1:
		bo = binary.LittleEndian
	case 2:
		bo = binary.BigEndian
	default:
		return fmt.Errorf("ELF data encoding %d is neither little- nor big-endian", ident[5])
	}
	// Offsets of e_type, e_phoff, e_phentsize and e_phnum, and the
	// width of e_phoff and of a program header's p_type.
	var hdr []byte
	var phoff uint64
	var phentsize, phnum uint16
	switch ident[4] {
	case 1: // ELFCLASS32
		hdr = make([]byte, 52)
		if _, err := r.ReadAt(hdr, 0); err != nil {
			return fmt.Errorf("read the ELF header: %w", err)
		}
		phoff = uint64(bo.Uint32(hdr[28:]))
		phentsize, phnum = bo.Uint16(hdr[42:]), bo.Uint16(hdr[44:])
	case 2: // ELFCLASS64
		hdr = make([]byte, 64)
		if _, err := r.ReadAt(hdr, 0); err != nil {
			return fmt.Errorf("read the ELF header: %w", err)
		}
		phoff = bo.Uint64(hdr[32:])
		phentsize, phnum = bo.Uint16(hdr[54:]), bo.Uint16(hdr[56:])
	default:
		return fmt.Errorf("ELF class %d is neither 32- nor 64-bit", ident[4])
	}
	if bo.Uint16(hdr[16:]) != elfTypeExec {
		return errNotStatic
	}
	if phnum == 0 || phentsize < 4 || phnum > 4096 {
		return fmt.Errorf("ELF program header table of %d entries of %d bytes", phnum, phentsize)
	}
	ph := make([]byte, int(phentsize)*int(phnum))
	if _, err := r.ReadAt(ph, int64(phoff)); err != nil {
		return fmt.Errorf("read the ELF program headers: %w", err)
	}
	for i := 0; i < int(phnum); i++ {
		switch bo.Uint32(ph[i*int(phentsize):]) {
		case elfPTDynamic, elfPTInterp, elfPTGNURelro:
			return errNotStatic
		}
	}
	return nil
}

// region is an address range of this process.
type region struct {
	start, end uint64
	rssKB      int64
}

// binaryRegions returns the mappings in smaps (/proc/self/smaps, read
// line by line: a whole copy would grow the heap the trim is for) that map the file dev:ino (major and minor device
// numbers, inode) privately and read-only and hold no anonymous page,
// none written to since it was mapped: the ones whose pages the file
// gives back unchanged.
func binaryRegions(smaps io.Reader, major, minor uint32, ino uint64) ([]region, error) {
	var out []region
	var cur *region // the mapping being read, when it is one to drop
	drop := false
	sc := bufio.NewScanner(smaps)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	flush := func() {
		if cur != nil && drop {
			out = append(out, *cur)
		}
		cur, drop = nil, false
	}
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if strings.HasSuffix(f[0], ":") {
			if cur == nil {
				continue
			}
			switch f[0] {
			case "Rss:":
				if len(f) >= 2 {
					cur.rssKB, _ = strconv.ParseInt(f[1], 10, 64)
				}
			case "Anonymous:", "Swap:":
				// A private page written to is anonymous (or, swapped
				// out, swap): dropping it would bring back the file's
				// bytes in its place.
				if len(f) < 2 || f[1] != "0" {
					drop = false
				}
			}
			continue
		}
		// A mapping: "start-end perms offset major:minor inode path".
		flush()
		if len(f) < 6 {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			return nil, fmt.Errorf("smaps: unexpected line %q", sc.Text())
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("smaps: address range %q: %w", f[0], err)
		}
		perms := f[1]
		mj, mn, _ := strings.Cut(f[3], ":")
		maj, err1 := strconv.ParseUint(mj, 16, 32)
		min, err2 := strconv.ParseUint(mn, 16, 32)
		inode, err3 := strconv.ParseUint(f[4], 10, 64)
		if errors.Join(err1, err2, err3) != nil {
			continue
		}
		if len(perms) == 4 && perms[1] != 'w' && perms[3] == 'p' && uint32(maj) == major && uint32(min) == minor && inode == ino {
			cur, drop = &region{start: start, end: end}, true
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("smaps: %w", err)
	}
	return out, nil
}
