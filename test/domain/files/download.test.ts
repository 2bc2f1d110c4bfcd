import { strict as assert } from 'node:assert';
import { allowedUrl, downloadFile, fileHosts, uploadFile } from '../../../src/domain/files/download';
import { FileServer } from '../../support/fileServer';

describe('file transfers: only the tenant’s SharePoint and OneDrive hosts, over https, within the size cap', () => {
  it("derives the hosts from the tenant's initial domain, or takes FILE_HOSTS", () => {
    assert.deepEqual(fileHosts(['contoso.com', 'contoso.onmicrosoft.com', 'contoso.mail.onmicrosoft.com'], []), [
      'contoso.sharepoint.com',
      'contoso-my.sharepoint.com',
    ]);
    assert.deepEqual(fileHosts(['contoso.onmicrosoft.com'], ['Files.Contoso.com']), ['files.contoso.com']);
    assert.deepEqual(fileHosts(['contoso.com'], []), [], 'no initial domain known: nothing is fetched');
  });

  it('refuses http, other hosts, look-alike hosts, credentials in the URL and other ports', () => {
    const hosts = ['contoso-my.sharepoint.com'];
    assert.ok(allowedUrl('https://contoso-my.sharepoint.com/personal/x/download.aspx?tempauth=1', hosts));
    for (const bad of [
      'http://contoso-my.sharepoint.com/x',
      'https://contoso-my.sharepoint.com.evil.example/x',
      'https://evilcontoso-my.sharepoint.com/x',
      'https://user:pw@contoso-my.sharepoint.com/x',
      'https://contoso-my.sharepoint.com:8443/x',
      'file:///etc/passwd',
      'not a url',
      42,
    ])
      assert.equal(allowedUrl(bad, hosts), null, String(bad));
  });

  it('a download with a redirect within the tenant is followed; the body stops at the cap; an upload needs a tenant host', async () => {
    const files = await new FileServer().start();
    try {
      const hosts = ['contoso-my.sharepoint.com'];
      const target = files.serve(Buffer.from('Email\na@adatum.com\n'));
      const viaRedirect = files.serve(Buffer.alloc(0), { redirectTo: target });
      const got = await downloadFile(viaRedirect, { hosts, maxBytes: 1024, fetch: files.fetch });
      assert.ok(got.ok);
      assert.equal(got.bytes.toString(), 'Email\na@adatum.com\n');
      const big = await downloadFile(files.serve(Buffer.alloc(5000), { chunked: true }), {
        hosts,
        maxBytes: 1024,
        fetch: files.fetch,
      });
      assert.deepEqual(big, { ok: false, problem: 'tooLarge' });
      const html = await downloadFile(
        files.serve(Buffer.from('<html></html>'), { contentType: 'text/html; charset=utf-8' }),
        { hosts, maxBytes: 1024, fetch: files.fetch },
      );
      assert.deepEqual(html, { ok: false, problem: 'notFile' });

      const session = files.uploadSession('x.csv');
      assert.equal(
        await uploadFile(session.uploadUrl.replace('contoso-my', 'contoso-evil'), Buffer.from('a'), {
          hosts,
          maxBytes: 10,
          fetch: files.fetch,
        }),
        false,
      );
      assert.equal(
        await uploadFile(session.uploadUrl, Buffer.from('abc'), { hosts, maxBytes: 10, fetch: files.fetch }),
        true,
      );
      assert.equal(files.uploaded(session)?.toString(), 'abc');
      assert.equal(files.requests.filter((r) => r.method === 'PUT').length, 1, 'the other host was never asked');
    } finally {
      await files.close();
    }
  });
});
