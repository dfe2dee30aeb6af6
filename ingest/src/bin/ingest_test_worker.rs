fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args
        .get(1)
        .is_some_and(|a| a == ingest::pdf::WORKER_SUBCOMMAND)
    {
        std::process::exit(ingest::pdf::worker_main(&args[2..]));
    }
}
