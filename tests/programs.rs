//! Recorded programs (`golden/programs/*.json`, written by `tools/record_init.py` from the real
//! libraries) replayed for every seed and variant of `golden/programs/results.json` (written by
//! `tools/gen_programs.py` from the real models built in PyTorch), compared by SHA-256.

use torch_rng::program::Program;

#[test]
fn verify_recorded() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/golden/programs");
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && !p.ends_with("results.json"))
        .collect();
    names.sort();
    let mut failures = Vec::new();
    for p in names {
        let text = std::fs::read_to_string(&p).unwrap();
        let prog = Program::parse(&text).unwrap();
        let v = prog.verify().unwrap();
        println!("{}: {v}", p.display());
        if !v.exact() {
            failures.push(format!("{}: {v}", p.display()));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
