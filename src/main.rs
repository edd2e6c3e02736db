//! `ownermap`: the binary is glue; everything lives in the library.
fn main() -> std::process::ExitCode {
    ownermap::cli::main()
}
