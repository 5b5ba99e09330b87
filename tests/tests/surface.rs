//! Snapshots of the generated public surface. A regeneration that changes an operation, a type,
//! a field or an enum value shows up here as a `.snap` diff to review (`cargo insta review`).

fn generated(module: &str) -> String {
    let path = format!("{}/../trophy-generated/src/{module}.rs", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

#[test]
fn application_api_surface() {
    let s = trophy_tests::surface(&generated("app")).expect("generated code parses");
    assert_eq!(trophy_tests::operation_count(&s), 27);
    insta::assert_snapshot!("app", s);
}

#[test]
fn admin_api_surface() {
    let s = trophy_tests::surface(&generated("admin")).expect("generated code parses");
    assert_eq!(trophy_tests::operation_count(&s), 58);
    insta::assert_snapshot!("admin", s);
}
