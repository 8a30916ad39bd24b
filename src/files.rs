//! Reading the files a user names (plans, seeds, catalogs, tenants, credentials, sessions):
//! regular files only and bounded, so a device, a FIFO or a huge file cannot hang the agent or
//! exhaust its memory.

use std::io::Read;
use std::path::Path;

/// The most any input file may hold.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Reads a regular file of at most [`MAX_FILE_BYTES`].
pub fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
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
}
