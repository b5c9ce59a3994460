H=/work/ledger-data/local-pg15/socket; pgb=/usr/lib/postgresql/15/bin/pgbench
# Balance read vs a PK select at 10^3 and 10^6 legs (database loaded by gen2.sql), 2 clients, app role bound.
for t in 1000 1000000; do
  T=dddddddd-0000-0000-0000-$(printf %012d $t)
  echo "SELECT balance FROM finanzas.account_balances WHERE tenant_id = '$T' AND account_type = 'CASH' AND currency = 'EUR';" > read_$t.sql
  echo "SELECT sum(amount * direction) FROM finanzas.ledger_entries WHERE tenant_id = '$T' AND account_type = 'CASH' AND currency = 'EUR';" > old_$t.sql
  echo "SELECT id FROM finanzas.transactions WHERE tenant_id = '$T' AND id = '00000000-0000-0000-0000-000000000001';" > pk_$t.sql
done
run() { PGOPTIONS="-c app.tenant_id=dddddddd-0000-0000-0000-$(printf %012d $2)" $pgb -h $H -U bench_app -n -c 2 -j 2 -T ${S:-4} -f $1 big 2>&1 | grep -oP "tps = \K[\d.]+"; }
for r in 1 2 3; do
  echo "round $r: pk@1e6 $(run pk_1000000.sql 1000000) read@1e6 $(run read_1000000.sql 1000000) read@1e3 $(run read_1000.sql 1000) pk@1e3 $(run pk_1000.sql 1000) old@1e3 $(run old_1000.sql 1000) old@1e6 $(S=4 run old_1000000.sql 1000000)"
done
