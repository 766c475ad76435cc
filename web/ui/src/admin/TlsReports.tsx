import { useState } from 'preact/hooks'
import { errorText, formatDate } from '../api'
import { useLoad } from './Admin'
import { console_, n, TlsReport } from './api'

// TLS reports (RFC 8460) that other mail operators sent about our domains:
// how many of their connections to our servers used TLS as our MTA-STS
// policy asks, and why the others failed.
export function TlsReports() {
  const [domain, setDomain] = useState('')
  const [shown, setShown] = useState('')
  const { data, error } = useLoad(() => console_.tlsReports(shown), [shown])
  const [open, setOpen] = useState<{ id: number; text: string } | null>(null)
  const [openError, setOpenError] = useState('')

  async function show(r: TlsReport) {
    setOpenError('')
    try {
      const d = await console_.tlsReport(r.id)
      setOpen({ id: r.id, text: JSON.stringify(d.json, null, 2) })
    } catch (e) { setOpenError(errorText(e)) }
  }

  return (
    <section aria-labelledby="tlsrpt-title">
      <h3 id="tlsrpt-title">TLS reports</h3>
      <p>Other mail servers report each day how their connections to ours went: sessions that used TLS as our policy asks, and those that failed, with the reason.</p>
      <form class="inline-form" onSubmit={(e) => { e.preventDefault(); setShown(domain.trim()) }}>
        <label for="tlsrpt-domain">Domain</label>
        <input id="tlsrpt-domain" type="text" placeholder="every domain" value={domain} onInput={(e) => setDomain((e.target as HTMLInputElement).value)} />
        <button type="submit">Show</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      <table class="grid">
        <caption class="sr-only">TLS reports received</caption>
        <thead><tr><th scope="col">Reported by</th><th scope="col">Domain</th><th scope="col">Period</th><th scope="col">Successful</th><th scope="col">Failed</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {data && data.reports.length === 0 && <tr><td colSpan={6}>No TLS reports have been received.</td></tr>}
          {data?.reports.map((r) => (
            <tr key={r.id} class={r.failures ? 'warn' : ''}>
              <td>{r.organization}</td>
              <td>{r.policy_domain}</td>
              <td>{formatDate(r.start, true)} – {formatDate(r.end, true)}</td>
              <td>{n(r.successes)}</td>
              <td>{n(r.failures)}</td>
              <td><button onClick={() => show(r)} aria-label={`Show the report from ${r.organization}`}>Show</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      {openError && <p class="error" role="alert">{openError}</p>}
      {open && (
        <section aria-label="Report as received">
          <h4>Report {open.id}</h4>
          <pre class="report-json" tabIndex={0} aria-label={`Report ${open.id} as JSON`}>{open.text}</pre>
        </section>
      )}
    </section>
  )
}
