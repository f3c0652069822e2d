//! Parse and validate a 1 MiB template (target: under 50 ms).
//! Run: `cargo bench -p app --bench template_parse`.

use std::time::{Duration, Instant};

use app::template::validate::validate_text;
use app::template::xml::MAX_TEMPLATE_BYTES;

/// The fixture's scenarios repeated (as FollowUp-free Common requests) until the text is just
/// under 1 MiB: many elements, attributes, entities and template strings, like a large real
/// template rather than one huge comment.
fn one_mebibyte_template() -> String {
    let fixture = include_str!("../../fixtures/templates/crm-basic-api-key.xml");
    let request = r#"        <Request Name="Lookup{n}" Method="GET" ResponseType="application/json" RequestEncoding="" URLFormat="https://{{.domain}}.example/api/v1/items/{{UrlEncode .ContactId}}?n={n}&amp;expand=owner">
          <Parameters>
            <Parameter Name="Data" Type="Body" Value="{&quot;id&quot;: &quot;{{JsonEscape .ContactId}}&quot;, &quot;n&quot;: {n}}"/>
            <Parameter Father="PopulateTemplateString" Type="Header" Name="X-Item" Value="{{.domain}}-{n}"/>
          </Parameters>
          <Outputs Next="">
            <Output Name="Owner{n}" Path="data.#(id==&quot;{{.ContactId}}&quot;).owner.name" Type=""/>
          </Outputs>
        </Request>
"#;
    let head = fixture.replace(
        "  </Scenarios>\n</Information>\n",
        "    <Scenario Id=\"Common\" Type=\"REST\">\n      <Requests>\n",
    );
    let tail = "      </Requests>\n    </Scenario>\n  </Scenarios>\n</Information>\n";
    let mut text = head;
    let mut n = 0;
    loop {
        let next = request.replace("{n}", &n.to_string());
        if text.len() + next.len() + tail.len() > MAX_TEMPLATE_BYTES {
            break;
        }
        text.push_str(&next);
        n += 1;
    }
    text.push_str(tail);
    text
}

fn time_it(label: &str, text: &str, expect_valid: bool) {
    let (document, report) = validate_text(text);
    assert!(document.is_some(), "the benchmark template must parse");
    assert_eq!(
        !report.has_errors(),
        expect_valid,
        "{label}: {:?}",
        report.errors().next()
    );
    let findings = report.findings.len();

    let rounds = 20;
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            let (document, report) = validate_text(std::hint::black_box(text));
            std::hint::black_box((document, report));
            start.elapsed()
        })
        .collect();
    times.sort();
    let median = times[rounds / 2];
    println!(
        "{label}: parse + validate {} bytes ({} KiB, {findings} findings): median {:.1} ms, min {:.1} ms, max {:.1} ms over {rounds} rounds (target < 50 ms)",
        text.len(),
        text.len() / 1024,
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[rounds - 1].as_secs_f64() * 1e3,
    );
}

fn main() {
    let text = one_mebibyte_template();
    time_it("valid", &text, true);
    // The same size where every request draws a warning (a quoted variable without
    // JsonEscape): locating thousands of findings must not cost findings × size.
    let noisy = text.replace("{{JsonEscape .ContactId}}", "{{.ContactId}}");
    time_it("warnings", &noisy, true);
}
