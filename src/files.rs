//! Reading the files a user names (plans, seeds, catalogs, tenants, credentials, sessions):
//! regular files only and bounded, so a device, a FIFO or a huge file cannot hang the agent or
//! exhaust its memory.

use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The most any input file may hold.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// What a path is, in words, for an error that says what was found instead of what was expected.
fn kind(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_file() {
        "a regular file"
    } else if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

fn wrong_kind(meta: &Metadata, expected: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("{}, not {expected}", kind(meta)),
    )
}

/// The metadata of `path` (links followed) when it is a regular file; otherwise an error that
/// says what it is instead ("a FIFO (named pipe), not a regular file"). Checking the type never
/// opens the file, so it cannot block on a FIFO or a device.
pub fn regular_metadata(path: &Path) -> std::io::Result<Metadata> {
    let meta = std::fs::metadata(path)?;
    if meta.is_file() {
        Ok(meta)
    } else {
        Err(wrong_kind(&meta, "a regular file"))
    }
}

/// The metadata of `path` (links followed) when it is a folder; otherwise an error that says
/// what it is instead ("a regular file, not a folder").
pub fn folder_metadata(path: &Path) -> std::io::Result<Metadata> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        Ok(meta)
    } else {
        Err(wrong_kind(&meta, "a folder"))
    }
}

/// Opens `path` with `options` when it is a regular file, and only then. The path may be swapped
/// for a FIFO or a device between the type check and the open: the open is non-blocking, so it
/// never waits for a FIFO's other end (a FIFO opened for writing without a reader fails at once
/// instead), no terminal becomes this process's controlling one, and the type of what was
/// actually opened is checked again. `O_NONBLOCK` changes nothing for a regular file, so the file
/// returned reads and writes as usual.
pub fn open_regular(path: &Path, options: &mut std::fs::OpenOptions) -> std::io::Result<File> {
    regular_metadata(path)?;
    let file = options
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(wrong_kind(&meta, "a regular file"));
    }
    Ok(file)
}

/// Reads what is left of `reader`, refusing more than `max` bytes (an error saying so, after at
/// most `max + 1` bytes were read: a file that keeps growing is not read for ever).
pub fn read_limited(reader: impl Read, max: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(too_large(max));
    }
    Ok(bytes)
}

fn too_large(max: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("larger than {max} bytes"),
    )
}

/// Reads a regular file of at most `max` bytes (for files whose real size differs from an input
/// file's: journals, evidence, keys). A file already larger is refused before anything is read.
pub fn read_regular_limited(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let file = open_regular(path, std::fs::OpenOptions::new().read(true))?;
    if file.metadata()?.len() > max {
        return Err(too_large(max));
    }
    read_limited(file, max)
}

/// Reads a regular file of at most [`MAX_FILE_BYTES`].
pub fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    read_regular_limited(path, MAX_FILE_BYTES)
}

/// Reads a regular UTF-8 text file of at most [`MAX_FILE_BYTES`].
pub fn read_regular_text(path: &Path) -> std::io::Result<String> {
    String::from_utf8(read_regular(path)?).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_folders_are_refused() {
        assert!(read_regular(Path::new("/dev/zero")).is_err());
        assert!(read_regular(Path::new("/")).is_err());
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.txt");
        std::fs::write(&file, "hello").expect("write");
        assert_eq!(read_regular_text(&file).expect("read"), "hello");
    }

    /// A FIFO named `fifo` in `dir`, with no writer.
    fn make_fifo(dir: &Path) -> std::path::PathBuf {
        let fifo = dir.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
        fifo
    }

    #[test]
    fn refusals_say_what_was_found_and_a_fifo_never_blocks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = make_fifo(dir.path());
        let err = read_regular(&fifo).expect_err("a FIFO");
        assert_eq!(err.to_string(), "a FIFO (named pipe), not a regular file");
        let err = read_regular(Path::new("/dev/zero")).expect_err("a device");
        assert_eq!(err.to_string(), "a character device, not a regular file");
        let err = read_regular(dir.path()).expect_err("a folder");
        assert_eq!(err.to_string(), "a folder, not a regular file");
        let file = dir.path().join("a.txt");
        std::fs::write(&file, "hello").expect("write");
        let err = folder_metadata(&file).expect_err("a file");
        assert_eq!(err.to_string(), "a regular file, not a folder");
        assert!(folder_metadata(dir.path()).is_ok());
    }

    #[test]
    fn limits_are_kept_and_opening_for_writing_checks_the_type_too() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.txt");
        std::fs::write(&file, "0123456789").expect("write");
        assert_eq!(read_regular_limited(&file, 10).expect("fits").len(), 10);
        let err = read_regular_limited(&file, 9).expect_err("too large");
        assert_eq!(err.to_string(), "larger than 9 bytes");
        let err = read_limited(std::io::repeat(0), 1000).expect_err("endless");
        assert_eq!(err.to_string(), "larger than 1000 bytes");
        let fifo = make_fifo(dir.path());
        let mut append = std::fs::OpenOptions::new();
        append.read(true).append(true);
        let err = open_regular(&fifo, &mut append).expect_err("a FIFO");
        assert_eq!(err.to_string(), "a FIFO (named pipe), not a regular file");
        let err = open_regular(Path::new("/dev/zero"), &mut append).expect_err("a device");
        assert_eq!(err.to_string(), "a character device, not a regular file");
        let mut opened = open_regular(&file, &mut append).expect("a file");
        std::io::Write::write_all(&mut opened, b"!").expect("append");
        assert_eq!(read_regular_text(&file).expect("read"), "0123456789!");
    }
}
