//! Hostile and careless input costs bounded stack, time and memory (SECURITY.md "Limits").
//!
//! Every case runs on a thread with a 2 MiB stack, the size of the server's worker
//! threads: a stack overflow is not a panic but the end of the whole process, so these
//! tests fail by crashing the test binary if a limit is missing.

use app::lang::text::{self, MAX_ALLOCATED, MAX_PARSE_DEPTH, MAX_STEPS};
use app::lang::{gjson, parse_template};

const SERVER_STACK: usize = 2 * 1024 * 1024;

fn on_server_stack<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SERVER_STACK)
        .spawn(work)
        .expect("thread starts")
        .join()
        .expect("no panic")
}

fn parse_error(source: String) -> String {
    on_server_stack(move || match parse_template(&source) {
        Ok(_) => "parsed".to_owned(),
        Err(error) => error.to_string(),
    })
}

fn run(source: &str) -> Result<String, String> {
    let source = source.to_owned();
    on_server_stack(move || {
        let template = parse_template(&source).map_err(|e| e.to_string())?;
        template
            .execute(&text::Data::new())
            .map_err(|e| e.to_string())
    })
}

#[test]
fn parentheses_nest_to_the_limit_and_no_further() {
    let nested = |depth: usize| format!("{{{{{}1{}}}}}", "(".repeat(depth), ")".repeat(depth));
    assert_eq!(run(&nested(MAX_PARSE_DEPTH)).as_deref(), Ok("1"));
    let refused = parse_error(nested(MAX_PARSE_DEPTH + 1));
    assert!(
        refused.contains("max expression depth exceeded"),
        "{refused}"
    );
    // The reported attack: 100,000 parentheses.
    let attack = parse_error(nested(100_000));
    assert!(attack.contains("max expression depth exceeded"), "{attack}");
}

#[test]
fn control_structures_and_else_if_chains_are_bounded_too() {
    let ifs = |depth: usize| format!("{}x{}", "{{if 1}}".repeat(depth), "{{end}}".repeat(depth));
    assert_eq!(run(&ifs(MAX_PARSE_DEPTH)).as_deref(), Ok("x"));
    assert!(parse_error(ifs(100_000)).contains("max expression depth exceeded"));
    let withs = format!(
        "{}{}",
        "{{with 1}}".repeat(50_000),
        "{{end}}".repeat(50_000)
    );
    assert!(parse_error(withs).contains("max expression depth exceeded"));
    let chain = format!("{{{{if 0}}}}{}{{{{end}}}}", "{{else if 0}}".repeat(50_000));
    assert!(parse_error(chain).contains("max expression depth exceeded"));
    let blocks: String = (0..50_000)
        .map(|i| format!("{{{{block \"b{i}\" .}}}}"))
        .collect();
    assert!(parse_error(blocks).contains("max expression depth exceeded"));
}

#[test]
fn printf_widths_from_arguments_are_capped_as_go_caps_them() {
    assert_eq!(run(r#"{{printf "%*d" 3 7}}"#).as_deref(), Ok("  7"));
    assert_eq!(
        run(r#"{{printf "%*d" 10000000 7}}"#).as_deref(),
        Ok("%!(BADWIDTH)7")
    );
    assert_eq!(
        run(r#"{{printf "%.*f" 10000000 1.5}}"#).as_deref(),
        Ok("%!(BADPREC)1.500000")
    );
}

#[test]
fn printf_padding_cannot_build_more_than_the_budget() {
    // Each verb pads to a million characters: 100 of them would be 100 MB.
    let format = "%1000000d".repeat(100);
    let error = run(&format!(
        r#"{{{{printf "{format}" {}}}}}"#,
        "1 ".repeat(100)
    ))
    .expect_err("refused");
    assert!(error.contains("64 MiB"), "{error}");
}

#[test]
fn values_doubled_past_the_budget_are_refused_before_they_are_written() {
    let mut source = String::from(r#"{{$a := printf "%1000d" 1}}"#);
    for _ in 0..20 {
        source.push_str(r#"{{$a = printf "%s%s" $a $a}}"#);
    }
    source.push_str("done");
    let error = run(&source).expect_err("refused");
    assert!(
        error.contains(&format!("exceed {} MiB", MAX_ALLOCATED >> 20)),
        "{error}"
    );
}

#[test]
fn template_calls_that_fan_out_run_out_of_steps() {
    // Each level calls the next twice: 2^40 calls unbounded.
    let mut source = String::from(r#"{{define "t0"}}x{{end}}"#);
    for level in 1..=40 {
        let below = level - 1;
        source.push_str(&format!(
            r#"{{{{define "t{level}"}}}}{{{{template "t{below}"}}}}{{{{template "t{below}"}}}}{{{{end}}}}"#
        ));
    }
    source.push_str(r#"{{template "t40"}}"#);
    let error = run(&source).expect_err("refused");
    assert!(error.contains(&format!("{MAX_STEPS} steps")), "{error}");
}

#[test]
fn recursion_to_the_call_depth_limit_fits_the_server_stack() {
    let error =
        run(r#"{{define "r"}}{{template "r" .}}{{end}}{{template "r" 1}}"#).expect_err("refused");
    assert!(error.contains("exceeded maximum template depth"), "{error}");
    // Each call level nests its body 99 levels deep: the total is what is bounded.
    let body = format!(
        "{}{{{{template \"r\" .}}}}{}",
        "{{if 1}}".repeat(99),
        "{{end}}".repeat(99)
    );
    let error = run(&format!(
        r#"{{{{define "r"}}}}{body}{{{{end}}}}{{{{template "r" 1}}}}"#
    ))
    .expect_err("refused");
    assert!(error.contains("exceeded maximum nesting depth"), "{error}");
}

fn deep_array(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn deep_flatten_is_exact_for_real_documents_and_bounded_for_hostile_ones() {
    assert_eq!(
        gjson::get(r#"[1,[2],[3,[4,[5]]]]"#, r#"@flatten:{"deep":true}"#).raw(),
        "[1,2,3,4,5]"
    );
    let answer = on_server_stack(|| {
        gjson::get(&deep_array(200_000), r#"@flatten:{"deep":true}"#)
            .raw()
            .len()
    });
    assert!(answer > 0);
}

#[test]
fn deeply_nested_documents_and_paths_do_not_overflow_the_stack() {
    let document = deep_array(500_000);
    let object = format!("{}1{}", r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
    on_server_stack(move || {
        for path in [
            "0.0.0", "@pretty", "@ugly", "@reverse", "@valid", "@this", "#", "..0", "@flatten",
            "@join", "@keys", "@tostr",
        ] {
            let _ = gjson::get(&document, path).raw().len();
            let _ = gjson::get(&object, path).raw().len();
        }
        let _ = gjson::valid(&document);
        let deep_path = "a.".repeat(100_000);
        assert!(!gjson::get(&object, &deep_path).exists());
        // Well inside the limit, a deep path still reads exactly.
        let hundred = format!("{}a", "a.".repeat(99));
        assert_eq!(gjson::get(&object, &hundred).raw().len(), {
            let inner = format!("{}1{}", r#"{"a":"#.repeat(99_900), "}".repeat(99_900));
            inner.len()
        });
    });
}

#[test]
fn deeply_nested_paths_do_not_overflow_the_stack() {
    on_server_stack(|| {
        let doc = r#"{"a":[{"b":1}],"c":"x"}"#;
        for path in [
            format!("{}a{}", "[".repeat(100_000), "]".repeat(100_000)),
            format!("{}a{}", "{".repeat(100_000), "}".repeat(100_000)),
            format!("a.{}b==1{}", "#(".repeat(100_000), ")".repeat(100_000)),
            "@reverse:".repeat(100_000),
            "@this|".repeat(100_000),
            format!("{}1{}", "!{\"a\":".repeat(100_000), "}".repeat(100_000)),
        ] {
            let _ = gjson::get(doc, &path).raw().len();
        }
    });
}
