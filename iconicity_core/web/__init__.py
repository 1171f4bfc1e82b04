"""The one JavaScript engine of the live views and the data it reads.

``js/`` holds ES modules: a DOM-free kernel (``data``, ``kernel``, ``stats``, ``text``, ``api``, ``store``,
``hash`` — tested in Node against the Python kernel), the views (``views/``) and two hosts: the shared HTML file
(``share_page``) and the dashboard's Custom Component (``dashboard_host``). :mod:`.bundle` joins them into one
script per host at run time; :mod:`.payload` writes the run's data; :mod:`.text` every sentence the views show.
"""
