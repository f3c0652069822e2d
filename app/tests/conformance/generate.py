#!/usr/bin/env python3
"""Conformance cases for Patchbay's GJSON paths and Go text/template, with expected results
from the Go reference implementations (../shared/oracle).

Usage: generate.py ORACLE   (run by ./regenerate, which builds the oracle first)

Writes gjson.jsonl ({"json","path","expect":{"exists","raw","str"}}) and tmpl.jsonl
({"template","vars","expect":{"ok","out","err"}}) beside this file, one case per line, in a
stable order, so a regeneration shows up as a reviewable diff.
"""
import itertools
import json
import random
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------------------- documents

SYNTAX_DOC = {
    "name": {"first": "Tom", "last": "Anderson"},
    "age": 37,
    "children": ["Sara", "Alex", "Jack"],
    "fav.movie": "Deer Hunter",
    "friends": [
        {"first": "Dale", "last": "Murphy", "age": 44, "nets": ["ig", "fb", "tw"]},
        {"first": "Roger", "last": "Craig", "age": 68, "nets": ["fb", "tw"]},
        {"first": "Jane", "last": "Murphy", "age": 47, "nets": ["ig", "tw"]},
    ],
}

TILDE_DOC = {"vals": [
    {"a": 1, "b": "data"}, {"a": 2, "b": True}, {"a": 3, "b": False}, {"a": 4, "b": "0"},
    {"a": 5, "b": 0}, {"a": 6, "b": "1"}, {"a": 7, "b": 1}, {"a": 8, "b": "true"},
    {"a": 9, "b": False}, {"a": 10, "b": None}, {"a": 11},
]}

CONTACTS_DOC = {"data": [
    {"id": "4150868000000224005", "First_Name": "Ada", "Last_Name": "Lovelace", "Phone": "+44 20 7946 0018",
     "Mobile": "+447700900123", "Email": "ada@example.com", "Account_Name": {"name": "Analytical Engines", "id": "77"},
     "Owner": {"id": "9001", "name": "Grace"}, "$org_id": "org42", "Mailing_City": "London", "Tag": ["vip", "uk"]},
    {"id": "4150868000000224006", "First_Name": "Alan", "Last_Name": "Turing", "Phone": "+44 161 496 0000",
     "Mobile": None, "Email": "alan@example.com", "Account_Name": None,
     "Owner": {"id": "9002", "name": "Linus"}, "$org_id": "org42", "Mailing_City": "Manchester", "Tag": []},
    {"id": "4150868000000224007", "First_Name": "Émilie", "Last_Name": "du Châtelet", "Phone": "+33 1 23 45 67 89",
     "Mobile": "+33612345678", "Email": "emilie@example.fr", "Account_Name": {"name": "Cirey", "id": "78"},
     "Owner": {"id": "9001", "name": "Grace"}, "$org_id": "org43", "Mailing_City": "Paris", "Tag": ["fr"]},
], "info": {"per_page": 200, "count": 3, "page": 1, "more_records": False}}

USERS_DOC = {
    "users": [
        {"id": 101, "first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com", "active": True, "role": {"name": "admin"}},
        {"id": 102, "first_name": "Linus", "last_name": "Torvalds", "email": "linus@example.com", "active": False, "role": {"name": "agent"}},
        {"id": 103, "first_name": "Margaret", "last_name": "Hamilton", "email": "margaret@example.com", "active": True, "role": {"name": "agent"}},
    ],
    "info": {"next_page_url": "https://api.example.com/v2/users?page=2", "per_page": 3},
    "links": {"next": "https://api.example.com/v2/users?cursor=abc", "prev": None},
    "meta": {"total": 7, "offset": 0, "limit": 3},
}

IDENTITIES_DOC = {"contacts": [{
    "id": "c_1", "name": "Ada Lovelace",
    "identities": [
        {"type": "email", "value": "ada@example.com", "primary": True},
        {"type": "phone_number", "value": "+15550001111", "primary": True},
        {"type": "phone_number", "value": "+15550002222", "primary": False},
        {"type": "twitter", "value": "@ada"},
    ],
    "phones": [{"kind": "work", "number": "+1 555 0100"}, {"kind": "mobile", "number": "+1 555 0199"}],
}], "identities": [
    {"type": "email", "value": "root@example.com"},
    {"type": "phone_number", "value": "+15551230001"},
    {"type": "phone_number", "value": "+15551230002"},
]}

EDGE_DOC = {
    "nested": [[1, 2], [3, [4, 5]], [], [[6]]],
    "objs": [{"a": 1, "b": 2}, {"b": 3, "c": 4}, {"d": None}],
    "grouped": {"id": ["123", "456", "789"], "val": [2, 1]},
    "text": "line one\nline \"two\"\ttab \\ backslash \u00e9\u00e8 \u2603",
    "json_in_string": "{\"inner\":[1,2,{\"k\":\"v\"}]}",
    "numbers": [0, -1, 3.14, 1e3, -2.5e-3, 12345678901234567890],
    "flags": {"t": True, "f": False, "n": None},
    "empty": {"arr": [], "obj": {}, "str": ""},
    "keys with spaces": {"a b": 1, "c*d": 2, "e?f": 3, "g.h": 4, "i|j": 5, "k#l": 6, "m@n": 7},
    "unicode": {"名前": "値", "emoji": "\U0001F600"},
    "deep": {"a": {"b": {"c": {"d": {"e": "bottom"}}}}},
    "mixed": [1, "two", {"three": 3}, [4], None, True],
}

DOCS = {
    "syntax": SYNTAX_DOC, "tilde": TILDE_DOC, "contacts": CONTACTS_DOC, "users": USERS_DOC,
    "identities": IDENTITIES_DOC, "edge": EDGE_DOC,
}

# ---------------------------------------------------------------------- gjson paths

HAND_WRITTEN = {
    "syntax": [
        # basic
        "name.last", "name.first", "age", "children", "children.0", "children.1", "children.3",
        "friends.1", "friends.1.first", "name", "missing", "name.middle", "",
        # wildcards and escapes
        "child*.2", "c?ildren.0", "ch*", "*.first", "n?me.last", "fav\\.movie", "fav.movie", "fav\\.mo*",
        # arrays
        "friends.#", "friends.#.age", "friends.#.nets", "friends.#.nets.#", "friends.#.nets.0", "children.#",
        "friends.#.first.#", "friends.-1", "friends.10",
        # queries
        'friends.#(last=="Murphy").first', 'friends.#(last=="Murphy")#.first', "friends.#(age>45)#.last",
        'friends.#(first%"D*").last', 'friends.#(first!%"D*").last', 'children.#(!%"*a*")', 'children.#(%"*a*")#',
        'friends.#(nets.#(=="fb"))#.first', "friends.#(age>=47)#.first", "friends.#(age<47)#.first",
        "friends.#(age<=44).first", 'friends.#(age!=68)#.first', 'friends.#(last=="Nobody").first',
        'friends.#(last=="Nobody")#.first', "friends.#(age==44).nets", 'friends.#(first=="Dale")',
        'friends.#(nets.#(=="ig"))#.last', 'friends.#(nets.0=="fb").first', 'children.#(=="Alex")',
        'children.#(=="Alex")#', 'friends.#(last=Murphy)#.first', 'friends.#(age>"40")#.first',
        'friends.#[last=="Murphy"].first', 'friends.#[last=="Murphy"]#.first',
        # dot vs pipe
        "friends.0.first", "friends|0.first", "friends.0|first", "friends|0|first", "friends|#", 'friends.#(last="Murphy")#',
        'friends.#(last="Murphy")#.first', 'friends.#(last="Murphy")#|first', 'friends.#(last="Murphy")#.0',
        'friends.#(last="Murphy")#|0', 'friends.#(last="Murphy")#.#', 'friends.#(last="Murphy")#|#',
        # modifiers
        "children.@reverse", "children.@reverse.0", "children|@reverse|0", "@reverse", "name.@reverse", "@ugly", "@pretty",
        '@pretty:{"sortKeys":true}', '@pretty:{"indent":"\\t"}', "friends.0.@pretty", "@this", "@this.name.first",
        "@valid", "@valid.age", "children.@keys", "name.@keys", "name.@values", "friends.@flatten", "friends.#.nets.@flatten",
        "friends.#.nets|@flatten", "@keys", "@values", "name.@tostr", "age.@tostr", "children|@tostr", "friends.0|@join",
        "friends|@join", "[name,age]|@join", "children.@join", "name.first.@reverse",
        # multipaths
        "[name.first,age,children.0]", "{name.first,age,children.0}", '{"who":name.first,"kids":children.#}',
        "[name.first,missing,age]", "{name.first,missing}", "{name,friends.#.first}", '{"a":[age,children.1]}',
        "[friends.#.first,friends.#.age]", "{age}.age", "[age,children].1", "friends.0.{first,age}",
        "friends.#.{first,age}", "friends.#.[first,age]",
        # literals
        "!true", "!false", "!null", "!42", "!\"str\"", "!{\"a\":1}", "[age,!true,!\"x\"]", '{"name":name.first,"ok":!true}',
        "{name.first,\"extra\":!123}",
    ],
    "tilde": [
        "vals.#(b==~true)#.a", "vals.#(b==~false)#.a", "vals.#(b==~null)#.a", "vals.#(b==~*)#.a", "vals.#(b!=~*)#.a",
        "vals.#(b!=~true)#.a", "vals.#(b!=~false)#.a", "vals.#(b!=~null)#.a", "vals.#(b==~true).a", "vals.#(b==~false).a",
        "vals.#(b==true)#.a", "vals.#(b==false)#.a", "vals.#(b==null)#.a", 'vals.#(b=="0")#.a', "vals.#(b==0)#.a",
        "vals.#(b==1)#.a", 'vals.#(b=="1")#.a', "vals.#(a>5)#.b", "vals.#(a>5)#.b.#", "vals.#.b", "vals.#",
    ],
    "contacts": [
        "data.#.id", "data.#.First_Name", "data.#.Account_Name.name", "data.#.Owner.id", "data.#.$org_id", "data.0.$org_id",
        "data.#.Mobile", "data.1.Mobile", "data.1.Account_Name", "data.1.Account_Name.name", "data.#.Tag", "data.#.Tag.0",
        "data.#.Tag.#", 'data.#(Phone=="+44 20 7946 0018").id', 'data.#(Phone=="+44 20 7946 0018")#.id',
        'data.#(Mobile=="+447700900123").First_Name', 'data.#(Mailing_City%"M*")#.Last_Name', 'data.#(Owner.id=="9001")#.First_Name',
        'data.#(Tag.#(=="vip"))#.id', "info.more_records", "info.count", "data.#(First_Name==\"Émilie\").Last_Name",
        'data.#(Phone=="+1 nope").id,data.0.id', "data.2.First_Name", "data.#.Email", 'data.#(Email%"*@example.com")#.Email',
        "data|#", "data|@reverse|0.id", "data.#.Owner.name", "{data.0.id,data.0.First_Name}",
    ],
    "users": [
        "users.#.id", "users.#.first_name", "users.#.last_name", "users.#.email", "users.#.role.name", "info.next_page_url",
        "links.next", "links.prev", "meta.total", "meta.offset", "users.#(active==true)#.email", "users.#(active==false)#.id",
        'users.#(role.name=="agent")#.email', "users.#(id>101)#.first_name", "users.#(id==103).email", "users.#",
        "users.0.id", "users.@reverse.#.id", "users.#.id.@reverse",
    ],
    "identities": [
        'identities.#(type=="phone_number")#|1.value', 'identities.#(type=="phone_number")#|0.value',
        'identities.#(type=="phone_number")#.value', 'identities.#(type=="phone_number").value',
        'identities.#(type=="email").value', 'identities.#(type=="fax").value', 'identities.#(type=="fax")#.value',
        'contacts.#.identities.#(type=="phone_number")#|0.value', 'contacts.0.identities.#(type=="phone_number")#|1.value',
        'contacts.0.identities.#(primary==true)#.value', 'contacts.#.phones.#(kind=="work")#|0.number',
        'contacts.0.phones.#(kind=="mobile").number', 'contacts.0.identities.#(type%"phone*")#.value',
        "contacts.#.id", "contacts.#.name", 'contacts.0.identities.#(type!="email")#.type',
    ],
    "edge": [
        "nested", "nested.@flatten", 'nested.@flatten:{"deep":true}', "nested.1.1.0", "nested.#", "nested.#.#",
        "objs.@join", "objs|@join", "objs.@join.b", "objs.#.b", "grouped.@group", "grouped", "text", "text.@tostr",
        "json_in_string", "json_in_string.@fromstr", "json_in_string.@fromstr.inner.2.k", "json_in_string|@fromstr|inner|#",
        "numbers", "numbers.0", "numbers.1", "numbers.2", "numbers.3", "numbers.4", "numbers.5", "numbers.#",
        "flags.t", "flags.f", "flags.n", "flags.missing", "flags.@keys", "flags.@values", "empty.arr", "empty.obj", "empty.str",
        "empty.arr.#", "empty.arr.0", "empty.obj.x", "keys with spaces", "keys with spaces.a b", "keys with spaces.c\\*d",
        "keys with spaces.e\\?f", "keys with spaces.g\\.h", "keys with spaces.i\\|j", "keys with spaces.k\\#l", "keys with spaces.m\\@n",
        "keys with spaces.c*d", "unicode.名前", "unicode.emoji", "unicode.@keys", "deep.a.b.c.d.e", "deep.a.b.c.d.e.f",
        "deep.@pretty", "deep.@ugly", "mixed", "mixed.#", "mixed.2.three", "mixed.3.0", "mixed.4", "mixed.5",
        "mixed.#(==\"two\")", "mixed.#(>0)#", "@valid", "objs.@keys", "objs.0.@values", "deep|@this|a|b",
    ],
}


def generated_paths():
    """Systematic variations over the realistic documents."""
    cases = []
    contact_fields = ["id", "First_Name", "Last_Name", "Phone", "Mobile", "Email", "Mailing_City", "$org_id"]
    for i, field in itertools.product(range(4), contact_fields):
        cases.append(("contacts", f"data.{i}.{field}"))
    for field in contact_fields:
        cases.append(("contacts", f"data.#.{field}"))
        cases.append(("contacts", f"data|@reverse|0.{field}"))
    for contact in CONTACTS_DOC["data"]:
        for field in ("Phone", "Mobile", "Email"):
            value = contact.get(field)
            if isinstance(value, str):
                cases.append(("contacts", f'data.#({field}=="{value}").id'))
                cases.append(("contacts", f'data.#({field}=="{value}")#.First_Name'))
                cases.append(("contacts", f'data.#({field}!="{value}")#.id'))
                cases.append(("contacts", f'data.#({field}%"{value[:4]}*")#.id'))
                cases.append(("contacts", f'data.#({field}=="{value}")#.Last_Name,data.#(Mobile=="{value}")#.Last_Name'))
    for op, n in itertools.product(["==", "!=", "<", "<=", ">", ">="], [44, 47, 68, 50]):
        cases.append(("syntax", f"friends.#(age{op}{n})#.first"))
        cases.append(("syntax", f"friends.#(age{op}{n}).first"))
    for op, v in itertools.product(["==", "!=", "<", ">", "%", "!%"], ['"Dale"', '"J*"', '"R?ger"', '"Murphy"']):
        cases.append(("syntax", f"friends.#(first{op}{v})#.last"))
    for user in USERS_DOC["users"]:
        cases.append(("users", f'users.#(email=="{user["email"]}").id'))
        cases.append(("users", f'users.#(id=={user["id"]}).email'))
        cases.append(("users", f'users.#(id!={user["id"]})#.email'))
    for i in range(5):
        cases.append(("identities", f'identities.#(type=="phone_number")#|{i}.value'))
        cases.append(("identities", f"identities.{i}.type"))
    for mod in ["@reverse", "@ugly", "@this", "@valid", "@keys", "@values", "@tostr", "@flatten", "@join", "@pretty"]:
        for base in ["children", "name", "friends.0", "friends", "age"]:
            cases.append(("syntax", f"{base}.{mod}"))
            cases.append(("syntax", f"{base}|{mod}"))
    return cases


def escape_key(key):
    """A key as a path component: GJSON's special characters escaped with a backslash."""
    return "".join("\\" + c if c in ".*?|#@\\!" else c for c in key)


def every_node(value, prefix=""):
    """A path to every node of a document, depth first."""
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}.{escape_key(key)}" if prefix else escape_key(key)
            yield path
            yield from every_node(child, path)
    elif isinstance(value, list):
        if prefix:
            yield f"{prefix}.#"
        for index, child in enumerate(value):
            path = f"{prefix}.{index}" if prefix else str(index)
            yield path
            yield from every_node(child, path)


def walked_paths():
    cases = []
    for name, document in DOCS.items():
        for path in every_node(document):
            cases.append((name, path))
            if "." in path and "\\" not in path:
                cases.append((name, path.replace(".", "|")))
    return cases


def gjson_cases():
    cases = [(doc, path) for doc, paths in HAND_WRITTEN.items() for path in paths]
    cases += generated_paths()
    cases += walked_paths()
    seen = set()
    unique = []
    for doc, path in cases:
        if (doc, path) not in seen:
            seen.add((doc, path))
            unique.append({"json": json.dumps(DOCS[doc], ensure_ascii=False), "path": path})
    return unique

# ------------------------------------------------------------------- templates

VARS = {
    "A": "alpha", "B": "", "Name": "Ada Lovelace", "Phone": "+44 20 7946 0018", "Num": "42", "Small": "7",
    "Quote": 'say "hi" & <bye>', "Time": "1672531199", "Path": "/rec/2023/call 1.wav", "Empty": "",
    "Lower": "hello world", "Url": "https://example.com/a b?x=1&y=2", "Unicode": "Émilie ☃",
    "Communication_Type": "Inbound", "Call_Status": "Completed", "Call_From": "Ada <1001>", "Call_To": "Bob <2002>",
    "RecordPath": "", "ContactId": "4150868000000224005", "Subject": "Call \"A\"",
}

TEMPLATES = [
    # text and actions
    "plain text", "", "{{.A}}", "{{.Missing}}", "[{{.B}}]", "{{.A}}-{{.Name}}", "{{ .A }}", "{{.Unicode}}",
    "{{/* a comment */}}x", "{{- /* trimmed comment */ -}} x", "a {{- .A -}} b", "a  {{- .A}}  b", "a {{.A -}}  b",
    "{{\"literal\"}}", "{{`raw\\n`}}", "{{123}}", "{{1.5}}", "{{true}}", "{{nil}}", "{{'a'}}", "{{0x1F}}",
    # if / else if / else
    "{{if .A}}yes{{end}}", "{{if .B}}yes{{else}}no{{end}}", "{{if .Missing}}yes{{else}}no{{end}}",
    "{{if .B}}1{{else if .A}}2{{else}}3{{end}}", "{{if .B}}1{{else if .Empty}}2{{else}}3{{end}}",
    "{{if and .A .Name}}both{{end}}", "{{if and .A .B}}both{{else}}not both{{end}}", "{{if or .B .A}}{{.A}}{{end}}",
    "{{if not .B}}empty{{end}}", "{{if .RecordPath}}, \"recording\": \"{{.RecordPath}}\"{{end}}",
    "{{and .A .B}}", "{{or .B .A}}", "{{and .A .Name}}", "{{or .B .Empty}}", "{{not .A}}", "{{not .B}}",
    # comparisons on strings
    "{{eq .A \"alpha\"}}", "{{eq .A \"beta\" \"alpha\"}}", "{{ne .A \"alpha\"}}", "{{lt .A \"beta\"}}", "{{le .A .A}}",
    "{{gt .Num .Small}}", "{{ge .Small .Num}}", "{{if eq .Communication_Type \"Inbound\"}}in{{else}}out{{end}}",
    "{{eq .Missing \"\"}}", "{{eq 1 1}}", "{{lt 1 2}}", "{{eq .A 1}}",
    # with, variables, pipelines
    "{{with .A}}[{{.}}]{{end}}", "{{with .B}}[{{.}}]{{else}}none{{end}}", "{{with .B}}x{{else with .A}}{{.}}{{end}}",
    "{{$x := .A}}{{$x}}", "{{$x := .A}}{{$x = .Name}}{{$x}}", "{{$}}", "{{$.A}}", "{{with .A}}{{$.Name}}{{end}}",
    "{{.A | printf \"%s!\"}}", "{{.A | printf \"%q\"}}", "{{\"x\" | printf \"%s-%s\" .A}}", "{{.Lower | len}}",
    # range
    "{{range $k, $v := .}}{{$k}}={{$v}};{{end}}", "{{range $k, $v := .}}{{if eq $k \"A\"}}{{break}}{{end}}{{$k}},{{end}}",
    "{{range $k, $v := .}}{{if $v}}{{continue}}{{end}}{{$k}},{{end}}", "{{range .}}{{.}}|{{end}}",
    "{{range $i, $c := .A}}{{end}}", "{{range 3}}{{.}}{{end}}", "{{range $i := 2}}{{$i}}{{else}}none{{end}}",
    "{{range 0}}x{{else}}empty{{end}}",
    # printf and friends
    "{{printf \"%d\" 42}}", "{{printf \"%05d\" 42}}", "{{printf \"%.2f\" 3.14159}}", "{{printf \"%x\" 255}}",
    "{{printf \"%v|%v\" .A .B}}", "{{printf \"%s\" .Missing}}", "{{printf \"%T\" .A}}", "{{printf \"%%\"}}",
    "{{printf \"%-6s|\" .A}}", "{{printf \"%6s|\" .A}}", "{{print .A .Name}}", "{{print 1 2}}", "{{println .A}}",
    "{{print \"a\" \"b\"}}",
    # index, len, slice
    "{{index . \"A\"}}", "{{index . \"Missing\"}}", "{{index .A 0}}", "{{index .A 10}}", "{{len .A}}", "{{len .Empty}}",
    "{{len .Unicode}}", "{{slice .A 1 3}}", "{{slice .A 2}}", "{{slice .A}}", "{{slice .A 3 1}}", "{{slice .A 0 99}}",
    # escaping
    "{{urlquery .Url}}", "{{urlquery .Quote}}", "{{html .Quote}}", "{{js .Quote}}", "{{js .Unicode}}",
    "{{.Quote | html}}", "{{urlquery .A .Name}}", "{{html .Missing}}",
    # Patchbay's functions defined in the oracle
    "{{Capitalize .Lower}}", "{{Capitalize .Empty}}", "{{Capitalize .Unicode}}", "{{UrlEncode \"hello world!\"}}",
    "{{UrlEncode .Url}}", "{{UrlEncode .Path}}", "{{UrlEncode .Unicode}}", "{{ToMillis .Time}}", "{{ToMillis \"1672531199\"}}",
    "{{ToMillis .Empty}}", "{{ToMillis .A}}", "{{Capitalize .ContactSyncType}}",
    # realistic integration strings
    "https://crm.example.com/api/contacts?phone={{UrlEncode .Phone}}",
    "{{.Communication_Type}} {{.Call_Status}} - from {{.Call_From}} to {{.Call_To}}",
    "{\"subject\": \"{{.Subject}}\", \"contact\": \"{{.ContactId}}\"{{if .RecordPath}}, \"rec\": \"{{.RecordPath}}\"{{end}}}",
    "data.#(phone==\"{{.Phone}}\")#.street,data.#(mobile==\"{{.Phone}}\")#.street",
    "{{if .ContactId}}https://crm.example.com/contacts/{{.ContactId}}{{end}}",
    "{{.crm_url}}/crm/{{.CustomValue}}/tab/{{Capitalize .ContactSyncType}}/{{.ContactId}}",
    # errors
    "{{.A", "{{if .A}}x", "{{end}}", "{{else}}", "{{range .A}}", "{{undefined .A}}", "{{.A.B.C}}", "{{index .A \"x\"}}",
    "{{$y}}", "{{break}}", "{{if}}x{{end}}", "{{printf}}", "{{len}}", "{{slice .A 1 2 3 4}}", "{{eq}}", "{{lt .A 1}}",
    "{{ .A | }}", "{{(.A}}", "{{.A)}}", "{{\"unterminated}}", "{{define \"x\"}}y{{end}}{{template \"x\"}}",
    "{{template \"missing\"}}", "{{block \"b\" .}}inner{{end}}", "}}", "{{}}", "{{ }}",
]


def template_cases():
    cases = [{"template": t, "vars": VARS} for t in TEMPLATES]
    # Generated variations: each variable through each escaping and formatting function.
    for name, fn in itertools.product(sorted(VARS), ["html", "js", "urlquery", "len", "Capitalize", "UrlEncode", "printf \"%q\""]):
        cases.append({"template": "{{" + fn + " ." + name + "}}", "vars": VARS})
    for name in sorted(VARS):
        cases.append({"template": "{{if ." + name + "}}set:{{." + name + "}}{{else}}unset{{end}}", "vars": VARS})
        cases.append({"template": "{{with ." + name + "}}<{{.}}>{{end}}", "vars": VARS})
    return cases


# ------------------------------------------------------------------------ random syntax
# Random token soups: mostly malformed, they pin down the reference's behaviour on bad
# input (errors, partial results). `differential` runs the same generators at scale.

RANDOM_TEMPLATE_TOKENS = [
    "{{", "}}", "{{- ", " -}}", " ", ".", ".A", ".Name", ".Num", "$", "$x", "$x := ", "|", "(", ")", '"a b"', "`r`",
    "'a'", "if ", "else", "end", "range ", "with ", "break", "continue", "nil", "true", "1", "-2", "0x1F", "1e3", "2.5",
    "printf ", '"%d|%s|%5.2f|%q|%x|%v|%T|%-4s|%05d|%+d|%c|%U|%e|%g|%t"', "index ", "slice ", "len ", "and ", "or ",
    "not ", "eq ", "ne ", "lt ", "le ", "gt ", "ge ", "html ", "js ", "urlquery ", "print ", "println ", "Capitalize ",
    "UrlEncode ", "ToMillis ", "{{/* c */}}", "x", "é", "\n", ".Small", ".Empty", '"<&>"', "3", "0", "1e331",
]
RANDOM_PATH_TOKENS = [
    ".", "|", "#", "*", "?", "(", ")", "[", "]", "{", "}", ",", ":", '"', "!", "==", "!=", "<", ">", "%", "!%",
    "~true", "~false", "@reverse", "@pretty", "@ugly", "@this", "@valid", "@flatten", "@join", "@keys", "@values",
    "@tostr", "@fromstr", "@group", "#(", ")#", "0", "1", "a", "b", "name", "friends", "first", "age", "nets", "c*",
    "?ge", "\\.",
]
RANDOM_DOC = ('{"a":{"b":[1,2,{"c":"x"}]},"name":{"first":"Tom","last":"A"},"age":37,"friends":[{"first":"D","age":44,'
              '"nets":["ig","fb"]},{"first":"R","age":68,"nets":["fb"]}],"s":"q\\"x","t":true,"f":false,"n":null,'
              '"arr":[[1,2],[3,[4]]],"objs":[{"a":1},{"b":2}]}')
RANDOM_VARS = {"A": "alpha", "Name": "Ada Lovelace", "Num": "42", "Small": "7", "Empty": ""}


def random_templates(count, seed):
    rng = random.Random(seed)
    return [{"template": "".join(rng.choice(RANDOM_TEMPLATE_TOKENS) for _ in range(rng.randint(1, 14))),
             "vars": RANDOM_VARS} for _ in range(count)]


def random_paths(count, seed):
    rng = random.Random(seed)
    return [{"json": RANDOM_DOC, "path": "".join(rng.choice(RANDOM_PATH_TOKENS) for _ in range(rng.randint(1, 8)))}
            for _ in range(count)]


# Cases where a first version of Patchbay's engines disagreed with the reference.
REGRESSION_TEMPLATES = [
    "{{range $k, $v = .}}{{$k}}={{$v}};{{end}}",
    "{{1e331}}",
    "{{eq $}}",
    "{{slice nil}}",
    "{{index nil 1}}",
    "{{len nil}}",
    "{{eq nil nil}} {{eq .A nil}} {{not nil}} {{and nil}}",
    "{{'a' éelseprint}}",
    # A single closing brace is not the right delimiter: Go says "bad character".
    "{{.Phone}",
    "{{.Phone} }}",
    "{{$x := 1}}{{$x}",
    "{{print 1}",
    "{{.A}x}}",
]
REGRESSION_PATHS = [
    "{>**]age", "{@valid@reverseb%@group|@tostr", "{%@valid}*", "{@valid?ge:@reverse}friends",
    '!"@values@this*\\.[~false', '!"\\.~false)#[', "{@tostr.@values",
]

# ------------------------------------------------------------------------ running


def run_oracle(oracle, mode, cases):
    payload = "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases)
    result = subprocess.run([oracle, mode], input=payload.encode(), capture_output=True, check=True)
    lines = result.stdout.decode().splitlines()
    if len(lines) != len(cases):
        sys.exit(f"oracle {mode}: {len(cases)} cases in, {len(lines)} results out")
    return [json.loads(line) for line in lines]


def write(name, cases, expectations):
    path = os.path.join(HERE, name)
    with open(path, "w", encoding="utf-8") as out:
        for case, expect in zip(cases, expectations):
            out.write(json.dumps({**case, "expect": expect}, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{name}: {len(cases)} cases")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: generate.py ORACLE")
    oracle = sys.argv[1]
    gjson = gjson_cases() + [{"json": RANDOM_DOC, "path": p} for p in REGRESSION_PATHS] + random_paths(200, 1)
    write("gjson.jsonl", gjson, run_oracle(oracle, "gjson", gjson))
    templates = template_cases() + [{"template": t, "vars": RANDOM_VARS} for t in REGRESSION_TEMPLATES]
    templates += random_templates(200, 1)
    write("tmpl.jsonl", templates, run_oracle(oracle, "tmpl", templates))


if __name__ == "__main__":
    main()
