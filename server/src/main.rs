// Rendering pages allocates many small values; under load glibc's allocator took about a third
// of the server's time (perf, README "The front end's weight"), mimalloc far less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    server::cli::main().await
}
