#!/usr/bin/env python3
"""Puts one benchmark's section into docs/PERFORMANCE.md: the text between
<!-- NAME:begin --> and <!-- NAME:end --> is replaced, or the section is appended.

  python3 bench/write_section.py jobs section.md
"""
import re
import sys

name, section_file = sys.argv[1], sys.argv[2]
section = open(section_file).read()
path = 'docs/PERFORMANCE.md'
doc = open(path).read()
marker = re.compile(r'<!-- %s:begin -->.*?<!-- %s:end -->\n?' % (name, name), flags=re.S)
if marker.search(doc):
    doc = marker.sub(lambda m: section, doc)
else:
    doc = doc.rstrip('\n') + '\n\n' + section
open(path, 'w').write(doc)
