//! Reading the files a user names (plans, seeds, catalogs, tenants, credentials, sessions):
//! regular files only and bounded, so a device, a FIFO or a huge file cannot hang the agent or
//! exhaust its memory.

use std::fs::Metadata;
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

/// Reads a regular file of at most [`MAX_FILE_BYTES`].
pub fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    regular_metadata(path)?;
    // The path may be swapped for a FIFO or a device between the check and the open: a
    // non-blocking open never waits for a FIFO's writer, no terminal becomes this process's
    // controlling one, and the type of what was actually opened is checked again.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(wrong_kind(&meta, "a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {MAX_FILE_BYTES} bytes"),
        ));
    }
    Ok(bytes)
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

    #[test]
    fn refusals_say_what_was_found_and_a_fifo_never_blocks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        // The `mkfifo` command: nix's mkfifo needs a feature the agent itself does not use.
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success(), "mkfifo {}", fifo.display());
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
}
