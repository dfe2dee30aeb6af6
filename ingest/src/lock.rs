//! The library's writer lock: an advisory `flock` on `LIBRARY/writer.lock`. One process writes at a
//! time; readers never take it. The kernel drops the lock when the holder exits, even by SIGKILL,
//! so a crash never leaves the library locked.

use crate::error::{IngestError, Result};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Name of the lock file inside the library directory.
pub const LOCK_FILE_NAME: &str = "writer.lock";

/// Held while a process writes to a library; released on drop or process exit.
#[derive(Debug)]
pub struct WriterLock {
    _file: std::fs::File,
}

impl WriterLock {
    /// Takes the lock of the library in `dir` without waiting, or fails with
    /// [`IngestError::LibraryInUse`].
    pub fn acquire(dir: &Path) -> Result<WriterLock> {
        let path = dir.join(LOCK_FILE_NAME);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| IngestError::io(&path, e))?;
        // SAFETY: flock on a descriptor we own.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            return Err(if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                IngestError::LibraryInUse {
                    dir: dir.to_path_buf(),
                }
            } else {
                IngestError::io(&path, err)
            });
        }
        // The pid is for people looking at the file; the lock itself is the flock.
        let _ = file.set_len(0);
        let _ = writeln!(file, "{}", std::process::id());
        Ok(WriterLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_gets_library_in_use_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = WriterLock::acquire(dir.path()).unwrap();
        let err = WriterLock::acquire(dir.path()).unwrap_err();
        assert!(matches!(err, IngestError::LibraryInUse { .. }));
        assert!(err.to_string().starts_with("library in use"), "{err}");
        drop(first);
        WriterLock::acquire(dir.path()).unwrap();
    }
}
