// eiofs: a passthrough FUSE filesystem that answers EIO on command, for logwharf's fault suite
// (test/faults/disk-eio.test.ts; test/helpers/fault-eiofs.ts builds and drives it). It mounts a
// backing directory at a mount point, and every operation goes through to the backing directory
// until SIGUSR1. From then on everything that reads or writes file data answers EIO: read,
// write, fsync/fdatasync, flush (close), fallocate, the fsync of a directory, and every change
// to the namespace (create, mkdir, rename, unlink, truncate, chmod, ...). Lookups, getattr,
// readdir and statfs keep working, as they do on a disk whose metadata is cached, so the kernel
// and the processes above stay sane. SIGUSR2 heals it.
//
//	eiofs <backing dir> <mount point>
//
// Lines on stdout: `eiofs: mounted`, `eiofs: failing`, `eiofs: healthy {"write":12,...}` (the EIOs
// answered since SIGUSR1, by operation), `eiofs: unmounted`. SIGTERM (or the parent dying)
// unmounts, lazily when files on it are still open, and exits.
//
// The kernel's page cache behaves as on a local filesystem: opens keep it (FOPEN_KEEP_CACHE) and
// nothing invalidates it behind the kernel's back, so a read the cache serves never reaches
// eiofs and does not fail, and a read that is only partly cached returns the cached part (a
// short read). Writes go through (no writeback cache), so write() itself gets the EIO.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// faults is the switch, and the EIOs it answered by operation since the last heal.
type faults struct {
	failing atomic.Bool
	mu      sync.Mutex
	counts  map[string]int
}

// eio tells whether op must fail now, and counts it.
func (f *faults) eio(op string) bool {
	if !f.failing.Load() {
		return false
	}
	f.mu.Lock()
	f.counts[op]++
	f.mu.Unlock()
	return true
}

func (f *faults) heal() map[string]int {
	f.failing.Store(false)
	f.mu.Lock()
	defer f.mu.Unlock()
	counts := f.counts
	f.counts = map[string]int{}
	return counts
}

// node is a loopback node that fails on command; its files are wrapped in file, its children
// in node.
type node struct {
	*fs.LoopbackNode
	faults *faults
}

var (
	_ fs.NodeWrapChilder = (*node)(nil)
	_ fs.NodeCreater     = (*node)(nil)
	_ fs.NodeTmpfiler    = (*node)(nil)
	_ fs.NodeOpener      = (*node)(nil)
	_ fs.NodeMkdirer     = (*node)(nil)
	_ fs.NodeMknoder     = (*node)(nil)
	_ fs.NodeSymlinker   = (*node)(nil)
	_ fs.NodeLinker      = (*node)(nil)
	_ fs.NodeUnlinker    = (*node)(nil)
	_ fs.NodeRmdirer     = (*node)(nil)
	_ fs.NodeRenamer     = (*node)(nil)
	_ fs.NodeSetattrer   = (*node)(nil)
)

func (n *node) WrapChild(_ context.Context, ops fs.InodeEmbedder) fs.InodeEmbedder {
	return &node{LoopbackNode: ops.(*fs.LoopbackNode), faults: n.faults}
}

func (n *node) wrap(fh fs.FileHandle) fs.FileHandle {
	if fh == nil {
		return nil
	}
	return &file{FileHandle: fh, faults: n.faults}
}

func (n *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	if n.faults.eio("create") {
		return nil, nil, 0, syscall.EIO
	}
	inode, fh, fuseFlags, errno := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	return inode, n.wrap(fh), fuseFlags | fuse.FOPEN_KEEP_CACHE, errno
}

func (n *node) Tmpfile(ctx context.Context, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	if n.faults.eio("create") {
		return nil, nil, 0, syscall.EIO
	}
	inode, fh, fuseFlags, errno := n.LoopbackNode.Tmpfile(ctx, flags, mode, out)
	return inode, n.wrap(fh), fuseFlags | fuse.FOPEN_KEEP_CACHE, errno
}

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_TRUNC != 0 && n.faults.eio("truncate") {
		return nil, 0, syscall.EIO
	}
	fh, fuseFlags, errno := n.LoopbackNode.Open(ctx, flags)
	return n.wrap(fh), fuseFlags | fuse.FOPEN_KEEP_CACHE, errno
}

func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if n.faults.eio("mkdir") {
		return nil, syscall.EIO
	}
	return n.LoopbackNode.Mkdir(ctx, name, mode, out)
}

func (n *node) Mknod(ctx context.Context, name string, mode, rdev uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if n.faults.eio("mknod") {
		return nil, syscall.EIO
	}
	return n.LoopbackNode.Mknod(ctx, name, mode, rdev, out)
}

func (n *node) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if n.faults.eio("symlink") {
		return nil, syscall.EIO
	}
	return n.LoopbackNode.Symlink(ctx, target, name, out)
}

func (n *node) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if n.faults.eio("link") {
		return nil, syscall.EIO
	}
	return n.LoopbackNode.Link(ctx, target, name, out)
}

func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	if n.faults.eio("unlink") {
		return syscall.EIO
	}
	return n.LoopbackNode.Unlink(ctx, name)
}

func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	if n.faults.eio("rmdir") {
		return syscall.EIO
	}
	return n.LoopbackNode.Rmdir(ctx, name)
}

func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if n.faults.eio("rename") {
		return syscall.EIO
	}
	return n.LoopbackNode.Rename(ctx, name, newParent, newName, flags)
}

// Setattr covers truncate, chmod, chown and utimes, with or without an open file.
func (n *node) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if n.faults.eio("setattr") {
		return syscall.EIO
	}
	if w, ok := f.(*file); ok {
		f = w.FileHandle
	}
	return n.LoopbackNode.Setattr(ctx, f, in, out)
}

func (n *node) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	fh, fuseFlags, errno := n.LoopbackNode.OpendirHandle(ctx, flags)
	if fh == nil {
		return nil, fuseFlags, errno
	}
	return &dir{FileHandle: fh, faults: n.faults}, fuseFlags, errno
}

// dir is an open directory that fails on command: only its fsync (listing it keeps working).
type dir struct {
	fs.FileHandle
	faults *faults
}

var (
	_ fs.FileReaddirenter = (*dir)(nil)
	_ fs.FileSeekdirer    = (*dir)(nil)
	_ fs.FileReleasedirer = (*dir)(nil)
	_ fs.FileFsyncdirer   = (*dir)(nil)
)

func (d *dir) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	return d.FileHandle.(fs.FileReaddirenter).Readdirent(ctx)
}

func (d *dir) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	return d.FileHandle.(fs.FileSeekdirer).Seekdir(ctx, off)
}

func (d *dir) Releasedir(ctx context.Context, flags uint32) {
	d.FileHandle.(fs.FileReleasedirer).Releasedir(ctx, flags)
}

func (d *dir) Fsyncdir(ctx context.Context, flags uint32) syscall.Errno {
	if d.faults.eio("fsyncdir") {
		return syscall.EIO
	}
	return d.FileHandle.(fs.FileFsyncdirer).Fsyncdir(ctx, flags)
}

// file is an open file of the loopback filesystem that fails on command. It implements exactly
// the file operations the loopback file does that logwharf uses; anything else the kernel asks
// answers ENOTSUP, or falls back to the node.
type file struct {
	fs.FileHandle
	faults *faults
}

var (
	_ fs.FileReader    = (*file)(nil)
	_ fs.FileWriter    = (*file)(nil)
	_ fs.FileFlusher   = (*file)(nil)
	_ fs.FileFsyncer   = (*file)(nil)
	_ fs.FileAllocater = (*file)(nil)
	_ fs.FileReleaser  = (*file)(nil)
	_ fs.FileGetattrer = (*file)(nil)
	_ fs.FileLseeker   = (*file)(nil)
)

func (f *file) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if f.faults.eio("read") {
		return nil, syscall.EIO
	}
	return f.FileHandle.(fs.FileReader).Read(ctx, dest, off)
}

func (f *file) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if f.faults.eio("write") {
		return 0, syscall.EIO
	}
	return f.FileHandle.(fs.FileWriter).Write(ctx, data, off)
}

func (f *file) Flush(ctx context.Context) syscall.Errno {
	if f.faults.eio("flush") {
		return syscall.EIO
	}
	return f.FileHandle.(fs.FileFlusher).Flush(ctx)
}

func (f *file) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	if f.faults.eio("fsync") {
		return syscall.EIO
	}
	return f.FileHandle.(fs.FileFsyncer).Fsync(ctx, flags)
}

func (f *file) Allocate(ctx context.Context, off, size uint64, mode uint32) syscall.Errno {
	if f.faults.eio("fallocate") {
		return syscall.EIO
	}
	return f.FileHandle.(fs.FileAllocater).Allocate(ctx, off, size, mode)
}

// Release always works: it closes the backing file, which nothing may keep open.
func (f *file) Release(ctx context.Context) syscall.Errno {
	return f.FileHandle.(fs.FileReleaser).Release(ctx)
}

func (f *file) Getattr(ctx context.Context, out *fuse.AttrOut) syscall.Errno {
	return f.FileHandle.(fs.FileGetattrer).Getattr(ctx, out)
}

func (f *file) Lseek(ctx context.Context, off uint64, whence uint32) (uint64, syscall.Errno) {
	return f.FileHandle.(fs.FileLseeker).Lseek(ctx, off, whence)
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: eiofs <backing dir> <mount point>")
		os.Exit(2)
	}
	backing, mountPoint := os.Args[1], os.Args[2]
	// A test runner that dies must not leave a mount behind: its end is our SIGTERM.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0, 0, 0); err != nil {
		fail("prctl: %v", err)
	}

	f := &faults{counts: map[string]int{}}
	root, err := loopbackRoot(backing, f)
	if err != nil {
		fail("%s: %v", backing, err)
	}
	second := time.Second
	server, err := fs.Mount(mountPoint, root, &fs.Options{
		// Short caches: what a test checks on the backing directory shows through soon.
		EntryTimeout: &second,
		AttrTimeout:  &second,
		MountOptions: fuse.MountOptions{
			FsName: backing,
			Name:   "eiofs",
			// mount(2) as root: no fusermount binary needed, and a clear error without root.
			DirectMount:       true,
			DirectMountStrict: true,
			// The page cache is dropped only when eiofs says so (never): mtime changes seen in
			// getattr must not invalidate pages SQLite has mapped (its -shm index), which would
			// then be read again, and a read that fails under a mapping is SIGBUS, not EIO.
			ExplicitDataCacheControl: true,
		},
	})
	if err != nil {
		fail("mount %s: %v", mountPoint, err)
	}
	fmt.Println("eiofs: mounted")

	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		for s := range signals {
			switch s {
			case syscall.SIGUSR1:
				f.failing.Store(true)
				fmt.Println("eiofs: failing")
			case syscall.SIGUSR2:
				counts, _ := json.Marshal(f.heal())
				fmt.Printf("eiofs: healthy %s\n", counts)
			default:
				f.heal()
				unmount(server, mountPoint)
			}
		}
	}()
	server.Wait()
	fmt.Println("eiofs: unmounted")
}

// loopbackRoot is fs.NewLoopbackRoot's root node, wrapped: its children are wrapped in turn.
func loopbackRoot(backing string, f *faults) (fs.InodeEmbedder, error) {
	root, err := fs.NewLoopbackRoot(backing)
	if err != nil {
		return nil, err
	}
	return &node{LoopbackNode: root.(*fs.LoopbackNode), faults: f}, nil
}

// unmount unmounts, or detaches the mount when files on it are still open (they keep working
// until closed), and gives up serving after a few seconds either way.
func unmount(server *fuse.Server, mountPoint string) {
	if err := server.Unmount(); err != nil {
		fmt.Fprintf(os.Stderr, "eiofs: unmount: %v; detaching instead\n", err)
		if err := syscall.Unmount(mountPoint, syscall.MNT_DETACH); err != nil {
			fmt.Fprintf(os.Stderr, "eiofs: umount -l: %v\n", err)
		}
		go func() {
			time.Sleep(5 * time.Second)
			fmt.Println("eiofs: unmounted (detached)")
			os.Exit(0)
		}()
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "eiofs: "+format+"\n", args...)
	os.Exit(1)
}
