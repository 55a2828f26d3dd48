import { publish } from '../dist/src/publish/index.js'
import { Repo } from '../dist/src/repo/index.js'
import { retrieve } from '../dist/src/retrieve/index.js'
const [repoDir, out, ...inputs] = process.argv.slice(2)
const repo = await Repo.open({ path: repoDir, create: true })
const res = await publish(inputs, { repo })
console.log(JSON.stringify({ items: res.items.map(i => [i.name, i.kind, i.images]), failures: res.failures }))
const got = await retrieve(repo, res.root, { out, level: 'full', format: 'nii' })
console.log(JSON.stringify(got.outputs.map((o) => o.paths)))
await repo.close()
process.exit(0)
