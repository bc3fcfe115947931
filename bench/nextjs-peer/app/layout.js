export const metadata = { title: 'Breakpilot (Next.js peer)' };

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
