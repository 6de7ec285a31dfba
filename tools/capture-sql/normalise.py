# Normalises the texts tools/capture-sql/capture.cjs recorded: placeholders, lists, CTE numbers, ids.
import sys,re,glob
out=set()
for f in glob.glob(sys.argv[1]+'.*'):
    if f.endswith(('.log', '.txt')): continue
    for line in open(f, errors='replace'):
        if '\t' not in line or line.startswith('ERR'): continue
        eng,sql=line.rstrip('\n').split('\t',1)
        s=re.sub(r'\$\d+','$',sql)
        s=re.sub(r'(\?|\$)(, (\?|\$))+','…',s)
        s=re.sub(r'\((…|\?|\$)\)(, \((…|\?|\$)\))+','(…)+',s)
        s=re.sub(r'"([amsw])\d+"',r'"\1#"',s)
        s=re.sub(r'`([amsw])\d+`',r'`\1#`',s)
        # uuids / literal numbers in test-issued SQL
        s=re.sub(r"'[0-9a-f-]{36}'","'<uuid>'",s)
        s=re.sub(r'\b\d{10,}\b','<n>',s)
        s=re.sub(r'test_[a-z0-9_]+','<db>',s)
        out.add(eng+'\t'+s)
for l in sorted(out): print(l)
